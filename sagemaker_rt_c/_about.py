"""About this package and the service it speaks, where every module can read it: the package
version (``sagemaker_rt_c.__version__``, sent in the User-Agent), the service's names, API
version, signing name and endpoint keys, and the client's methods with the operations they
call (boto3's ``method_to_api_mapping``)."""

__version__ = "0.1.0"

_SERVICE_NAME = "sagemaker-runtime"
_SERVICE_ALIASES = {"runtime.sagemaker": "sagemaker-runtime"}
_API_VERSION = "2017-05-13"
_ENDPOINT_PREFIX = "runtime.sagemaker"
_SIGNING_NAME = "sagemaker"
_ENDPOINT_ENV_VAR = "AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"
_SERVICES_KEY = "sagemaker_runtime"

_PY_TO_OP_NAME = {
    "invoke_endpoint": "InvokeEndpoint",
    "invoke_endpoint_async": "InvokeEndpointAsync",
    "invoke_endpoint_with_response_stream": "InvokeEndpointWithResponseStream",
}
