"""Transport helpers in Python: endpoint URLs as botocore and urllib3 treat them (urls), TLS
settings and botocore's SSLError wording (tls), and the small HTTP client of the instance
metadata and container credential fetchers (http)."""
