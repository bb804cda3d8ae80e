"""Exceptions raised by sagemaker_rt_c, mirroring ``botocore.exceptions``.

Names, ``fmt`` strings, ``kwargs``, messages, pickling and class relations follow botocore.
Importing this module is cheap and never imports botocore: each class is created on first
access (module ``__getattr__``), once per process. If botocore is importable at that moment,
each class also derives from botocore's class of the same name, so code written against
botocore (``except botocore.exceptions.ClientError``) catches ours.

Differences from botocore, all deliberate:

* ``ValidationError`` here is the service's modeled error (a ``ClientError``), as
  ``client.exceptions.ValidationError`` is in boto3. botocore's parameter-validation base of the
  same name is ``BotoCoreValidationError`` here (derived from botocore's ``ValidationError``).
* A modeled error pickles as its own class; botocore's classes are made per client, so botocore
  degrades them to plain ``ClientError`` when pickling.
* Without botocore, the requests/urllib3 bases of botocore's network errors are replaced by
  ``OSError`` (what requests' ``RequestException`` derives from).
"""

import _thread

_BCE = "BotoCoreError"
_BERE = "BaseEndpointResolverError"
_BVE = "BotoCoreValidationError"
_IRCE = "InvalidRetryConfigurationError"

# name: (parent names, fmt or None to inherit); fmt strings are botocore's, verbatim.
_SPECS = {
    "BotoCoreError": ((), "An unspecified error occurred"),
    "DataNotFoundError": ((_BCE,), "Unable to load data for: {data_path}"),
    "UnknownServiceError": (
        ("DataNotFoundError",),
        "Unknown service: '{service_name}'. Valid service names are: {known_service_names}",
    ),
    "UnknownRegionError": ((_BCE,), "Unknown region: '{region_name}'. {error_msg}"),
    "ApiVersionNotFoundError": ((_BCE,), "Unable to load data {data_path} for: {api_version}"),
    "HTTPClientError": ((_BCE,), "An HTTP Client raised an unhandled exception: {error}"),
    "ConnectionError": ((_BCE,), "An HTTP Client failed to establish a connection: {error}"),
    "InvalidIMDSEndpointError": (
        (_BCE,),
        "Invalid endpoint EC2 Instance Metadata endpoint: {endpoint}",
    ),
    "InvalidIMDSEndpointModeError": (
        (_BCE,),
        "Invalid EC2 Instance Metadata endpoint mode: {mode}"
        " Valid endpoint modes (case-insensitive): {valid_modes}.",
    ),
    "EndpointConnectionError": (
        ("ConnectionError",),
        'Could not connect to the endpoint URL: "{endpoint_url}"',
    ),
    "SSLError": (("ConnectionError",), "SSL validation failed for {endpoint_url} {error}"),
    "ConnectionClosedError": (
        ("HTTPClientError",),
        "Connection was closed before we received a valid response "
        'from endpoint URL: "{endpoint_url}".',
    ),
    "ReadTimeoutError": (("HTTPClientError",), 'Read timeout on endpoint URL: "{endpoint_url}"'),
    "ConnectTimeoutError": (
        ("ConnectionError",),
        'Connect timeout on endpoint URL: "{endpoint_url}"',
    ),
    "ProxyConnectionError": (("ConnectionError",), 'Failed to connect to proxy URL: "{proxy_url}"'),
    "ResponseStreamingError": (
        ("HTTPClientError",),
        "An error occurred while reading from response stream: {error}",
    ),
    "NoCredentialsError": ((_BCE,), "Unable to locate credentials"),
    "NoAuthTokenError": ((_BCE,), "Unable to locate authorization token"),
    "TokenRetrievalError": ((_BCE,), "Error when retrieving token from {provider}: {error_msg}"),
    "PartialCredentialsError": (
        (_BCE,),
        "Partial credentials found in {provider}, missing: {cred_var}",
    ),
    "CredentialRetrievalError": (
        (_BCE,),
        "Error when retrieving credentials from {provider}: {error_msg}",
    ),
    "UnknownSignatureVersionError": ((_BCE,), "Unknown Signature Version: {signature_version}."),
    "ServiceNotInRegionError": (
        (_BCE,),
        "Service {service_name} not available in region {region_name}",
    ),
    "BaseEndpointResolverError": ((_BCE,), None),
    "NoRegionError": ((_BERE,), "You must specify a region."),
    "EndpointVariantError": (
        (_BERE,),
        "Unable to construct a modeled endpoint with the following variant(s) {tags}: ",
    ),
    "UnknownEndpointError": (
        (_BERE,),
        "Unable to construct an endpoint for {service_name} in region {region_name}",
    ),
    "UnknownFIPSEndpointError": (
        (_BERE,),
        'The provided FIPS pseudo-region "{region_name}" is not known for '
        'the service "{service_name}". A FIPS compliant endpoint cannot be '
        "constructed.",
    ),
    "ProfileNotFound": ((_BCE,), "The config profile ({profile}) could not be found"),
    "ConfigParseError": ((_BCE,), "Unable to parse config file: {path}"),
    "ConfigNotFound": ((_BCE,), "The specified config file ({path}) could not be found."),
    "MissingParametersError": (
        (_BCE,),
        "The following required parameters are missing for {object_name}: {missing}",
    ),
    "BotoCoreValidationError": (
        (_BCE,),
        "Invalid value ('{value}') for param {param} of type {type_name} ",
    ),
    "ParamValidationError": ((_BCE,), "Parameter validation failed:\n{report}"),
    "UnknownKeyError": (
        (_BVE,),
        "Unknown key '{value}' for param '{param}'.  Must be one of: {choices}",
    ),
    "RangeError": (
        (_BVE,),
        "Value out of range for param {param}: {min_value} <= {value} <= {max_value}",
    ),
    "UnknownParameterError": (
        (_BVE,),
        "Unknown parameter '{name}' for operation {operation}.  Must be one of: {choices}",
    ),
    "InvalidRegionError": (
        (_BVE,),
        "Provided region_name '{region_name}' doesn't match a supported format.",
    ),
    "AliasConflictParameterError": (
        (_BVE,),
        "Parameter '{original}' and its alias '{alias}' were provided "
        "for operation {operation}.  Only one of them may be used.",
    ),
    "PaginationError": ((_BCE,), "Error during pagination: {message}"),
    "OperationNotPageableError": ((_BCE,), "Operation cannot be paginated: {operation_name}"),
    "ChecksumError": (
        (_BCE,),
        "Checksum {checksum_type} failed, expected checksum "
        "{expected_checksum} did not match calculated checksum "
        "{actual_checksum}.",
    ),
    "UnseekableStreamError": (
        (_BCE,),
        "Need to rewind the stream {stream_object}, but stream is not seekable.",
    ),
    "IncompleteReadError": (
        (_BCE,),
        "{actual_bytes} read, but total bytes expected is {expected_bytes}.",
    ),
    "UnknownCredentialError": ((_BCE,), "Credential named {name} not found."),
    "UnknownTokenProviderError": ((_BCE,), "Token provider named {name} not found."),
    "UnknownClientMethodError": ((_BCE,), "Client does not have method: {method_name}"),
    "UnsupportedSignatureVersionError": (
        (_BCE,),
        "Signature version(s) are not supported: {signature_version}",
    ),
    "InvalidEndpointDiscoveryConfigurationError": (
        (_BCE,),
        "Unsupported configuration value for endpoint_discovery_enabled. "
        'Expected one of ("true", "false", "auto") but got {config_value}.',
    ),
    "InvalidRetryConfigurationError": (
        (_BCE,),
        'Cannot provide retry configuration for "{retry_config_option}". '
        "Valid retry configuration options are: {valid_options}",
    ),
    "InvalidMaxRetryAttemptsError": (
        (_IRCE,),
        'Value provided to "max_attempts": {provided_max_attempts} must '
        "be an integer greater than or equal to {min_value}.",
    ),
    "InvalidRetryModeError": (
        (_IRCE,),
        'Invalid value provided to "mode": "{provided_retry_mode}" must be one of: {valid_modes}',
    ),
    "InvalidConfigError": ((_BCE,), "{error_msg}"),
    "InvalidSTSRegionalEndpointsConfigError": (
        (_BCE,),
        "STS regional endpoints option {sts_regional_endpoints_config} is invalid. Valid "
        'options are: "legacy", "regional"',
    ),
    "InvalidS3AddressingStyleError": (
        (_BCE,),
        "S3 addressing style {s3_addressing_style} is invalid. Valid options "
        "are: 'auto', 'virtual', and 'path'",
    ),
    "InfiniteLoopConfigError": (
        ("InvalidConfigError",),
        "Infinite loop in credential configuration detected. Attempting to "
        "load from profile {source_profile} which has already been visited. "
        "Visited profiles: {visited_profiles}",
    ),
    "RefreshWithMFAUnsupportedError": ((_BCE,), "Cannot refresh credentials: MFA token required."),
    "MissingDependencyException": ((_BCE,), "Missing Dependency: {msg}"),
    "MetadataRetrievalError": ((_BCE,), "Error retrieving metadata: {error_msg}"),
    "SSOError": (
        (_BCE,),
        "An unspecified error happened when resolving AWS credentials or an access token from SSO.",
    ),
    "SSOTokenLoadError": (("SSOError",), "Error loading SSO Token: {error_msg}"),
    "UnauthorizedSSOTokenError": (
        ("SSOError",),
        "The SSO session associated with this profile has expired or is "
        "otherwise invalid. To refresh this SSO session run aws sso login "
        "with the corresponding profile.",
    ),
    "LoginError": (
        (_BCE,),
        "An unspecified error happened when resolving AWS credentials or "
        "refreshing a login session profile.",
    ),
    "LoginRefreshRequired": (
        ("LoginError",),
        "Your session has expired or credentials have changed. "
        "Please reauthenticate using 'aws login'.",
    ),
    "LoginInsufficientPermissions": (
        ("LoginError",),
        "Unable to create or refresh login credentials due to insufficient "
        "permissions. You may be missing permission for the "
        "'signin:CreateOAuth2Token' action.",
    ),
    "LoginTokenLoadError": (("LoginError",), "Error loading login session token: {error_msg}"),
    "LoginAuthorizationCodeError": (
        ("LoginError",),
        "Error loading or redeeming a login authorization code: {error_msg} ",
    ),
    "CapacityNotAvailableError": ((_BCE,), "Insufficient request capacity available."),
    "InvalidProxiesConfigError": (
        (_BCE,),
        "Invalid configuration value(s) provided for proxies_config.",
    ),
    "InvalidDefaultsMode": (
        (_BCE,),
        "Client configured with invalid defaults mode: {mode}. "
        "Valid defaults modes include: {valid_modes}.",
    ),
    "AwsChunkedWrapperError": ((_BCE,), "{error_msg}"),
    "FlexibleChecksumError": ((_BCE,), "{error_msg}"),
    "InvalidEndpointConfigurationError": ((_BCE,), "Invalid endpoint configuration: {msg}"),
    "EndpointProviderError": ((_BCE,), "{msg}"),
    "EndpointResolutionError": (("EndpointProviderError",), "{msg}"),
    "UnknownEndpointResolutionBuiltInName": (
        ("EndpointProviderError",),
        "Unknown builtin variable name: {name}",
    ),
    "InvalidChecksumConfigError": (
        (_BCE,),
        "Unsupported configuration value for {config_key}. "
        "Expected one of {valid_options} but got {config_value}.",
    ),
    "UnsupportedServiceProtocolsError": (
        (_BCE,),
        "Botocore supports {botocore_supported_protocols}, but service {service} only "
        "supports {service_supported_protocols}.",
    ),
    "ClientError": ((), None),
    "EventStreamError": (("ClientError",), None),
}

# The service's modeled errors, in botocore's order (client.exceptions); code == shape name.
_MODELED = (
    "InternalDependencyException",
    "InternalFailure",
    "InternalStreamFailure",
    "ModelError",
    "ModelNotReadyException",
    "ModelStreamError",
    "ServiceUnavailable",
    "ValidationError",
)
for _name in _MODELED:
    _SPECS[_name] = (("ClientError",), None)
del _name

_NOT_EXCEPTIONS = ("ClientExceptions",)
__all__ = list(_SPECS) + list(_NOT_EXCEPTIONS)

# Builtin bases botocore's classes carry; OSError stands in for requests' RequestException.
_BUILTIN_BASES = {
    "UnknownEndpointError": (ValueError,),
    "InvalidRegionError": (ValueError,),
    "SSLError": (OSError,),
    "ReadTimeoutError": (OSError,),
    "ConnectTimeoutError": (OSError,),
    "ProxyConnectionError": (OSError,),
}

# Our name -> botocore's name for the extra base; modeled errors have no botocore twin.
_TWIN_NAMES = {"BotoCoreValidationError": "ValidationError"}
_NO_TWIN = frozenset(_MODELED)


def _exception_from_packed_args(exception_cls, args=None, kwargs=None):
    # Exceptions that take only kwargs can't be rebuilt from positional args by pickle.
    if args is None:
        args = ()
    if kwargs is None:
        kwargs = {}
    return exception_cls(*args, **kwargs)


def _botocore_init(self, **kwargs):
    msg = self.fmt.format(**kwargs)
    Exception.__init__(self, msg)
    self.kwargs = kwargs


def _botocore_reduce(self):
    return _exception_from_packed_args, (self.__class__, None, self.kwargs)


def _http_client_init(self, request=None, response=None, **kwargs):
    self.request = request
    self.response = response
    _botocore_init(self, **kwargs)


def _http_client_reduce(self):
    return _exception_from_packed_args, (
        self.__class__,
        (self.request, self.response),
        self.kwargs,
    )


def _client_error_init(self, error_response, operation_name):
    retry_info = self._get_retry_info(error_response)
    error = error_response.get("Error", {})
    msg = self.MSG_TEMPLATE.format(
        error_code=error.get("Code", "Unknown"),
        error_message=error.get("Message", "Unknown"),
        operation_name=operation_name,
        retry_info=retry_info,
    )
    Exception.__init__(self, msg)
    self.response = error_response
    self.operation_name = operation_name


def _client_error_retry_info(self, response):
    retry_info = ""
    if "ResponseMetadata" in response:
        metadata = response["ResponseMetadata"]
        if metadata.get("MaxAttemptsReached", False):
            if "RetryAttempts" in metadata:
                retry_info = f" (reached max retries: {metadata['RetryAttempts']})"
    return retry_info


def _client_error_reduce(self):
    # Our classes are module attributes, so they pickle as themselves; anything else (a user's
    # subclass with another signature) degrades to ClientError as botocore does.
    cls = type(self)
    if _CLASSES.get(cls.__name__) is not cls:
        cls = _CLASSES["ClientError"]
    return cls, (self.response, self.operation_name)


_METHODS = {
    "BotoCoreError": {"__init__": _botocore_init, "__reduce__": _botocore_reduce},
    "HTTPClientError": {"__init__": _http_client_init, "__reduce__": _http_client_reduce},
    "ClientError": {
        "MSG_TEMPLATE": (
            "An error occurred ({error_code}) when calling the {operation_name} "
            "operation{retry_info}: {error_message}"
        ),
        "__init__": _client_error_init,
        "_get_retry_info": _client_error_retry_info,
        "__reduce__": _client_error_reduce,
    },
}

# A reload keeps the classes already handed out: still one class object per name.
_CLASSES = globals().get("_CLASSES", {})
_LOCK = globals().get("_LOCK") or _thread.RLock()
_botocore_state = globals().get("_botocore_state", [])  # [module or None], set on first use


def _botocore_exceptions():
    # Decided once per process so the whole hierarchy is built the same way.
    if not _botocore_state:
        try:
            import botocore.exceptions as mod
        except ImportError:
            mod = None
        _botocore_state.append(mod)
    return _botocore_state[0]


def _twin(name):
    if name in _NO_TWIN:
        return None
    mod = _botocore_exceptions()
    if mod is None:
        return None
    twin = getattr(mod, _TWIN_NAMES.get(name, name), None)
    if isinstance(twin, type) and issubclass(twin, BaseException):
        return twin
    return None


def _build(name):
    cls = _CLASSES.get(name)
    if cls is not None:
        return cls
    parents, fmt = _SPECS[name]
    own = tuple(_build(p) for p in parents)
    extra = _BUILTIN_BASES.get(name, ())
    ns = {"__module__": __name__, "__qualname__": name}
    if fmt is not None:
        ns["fmt"] = fmt
    ns.update(_METHODS.get(name, {}))
    twin = _twin(name)
    cls = None
    if twin is not None:
        try:
            cls = type(name, own + (twin,) + extra, ns)
        except TypeError:
            # An older botocore with another hierarchy: keep ours consistent instead.
            cls = None
    if cls is None:
        cls = type(name, (own + extra) or (Exception,), ns)
    _CLASSES[name] = cls
    globals()[name] = cls
    return cls


def _from_code(cls, error_code):
    return cls._code_to_exception.get(error_code, cls.ClientError)


def _exceptions_getattr(self, name):
    exception_cls_names = [c.__name__ for c in self._code_to_exception.values()]
    raise AttributeError(
        rf"{self} object has no attribute {name}. "
        rf"Valid exceptions are: {', '.join(exception_cls_names)}"
    )


def _build_client_exceptions():
    cls = _CLASSES.get("ClientExceptions")
    if cls is not None:
        return cls
    code_to_exception = {code: _build(code) for code in _MODELED}
    ns = {
        "__module__": __name__,
        "__qualname__": "ClientExceptions",
        "__doc__": (
            "What ``client.exceptions`` is: the modeled error classes, ``ClientError`` and "
            "``from_code(code)``, as botocore's per-client exceptions object."
        ),
        "ClientError": _build("ClientError"),
        "_code_to_exception": code_to_exception,
        "from_code": classmethod(_from_code),
        "__getattr__": _exceptions_getattr,
    }
    ns.update(code_to_exception)
    cls = type("ClientExceptions", (), ns)
    _CLASSES["ClientExceptions"] = cls
    globals()["ClientExceptions"] = cls
    return cls


def error_class_for_code(code):
    """The exception class botocore's client raises for an error ``Code`` (any value)."""
    if isinstance(code, str) and code in _MODELED_SET:
        cls = _CLASSES.get(code)
        if cls is None:
            with _LOCK:
                cls = _build(code)
        return cls
    return __getattr__("ClientError")


_MODELED_SET = frozenset(_MODELED)


def __getattr__(name):
    cls = _CLASSES.get(name)
    if cls is not None:
        return cls
    if name in _SPECS:
        with _LOCK:
            return _build(name)
    if name == "ClientExceptions":
        with _LOCK:
            return _build_client_exceptions()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
