"""The service's wire protocol in Python, on the slow paths: the operation tables generated
from botocore's model (operations), parameter validation with botocore's messages (validate),
error-response parsing (errors), presigned URLs (presign) and the event-stream exceptions
(eventstream). Nothing here is imported by ``import sagemaker_rt_c``."""
