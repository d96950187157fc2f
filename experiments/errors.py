"""Domain errors, named by the MLflow error codes they travel as (the DRF API maps them too)."""

STATUS_BY_CODE = {
    "INVALID_PARAMETER_VALUE": 400,
    "BAD_REQUEST": 400,
    "INVALID_STATE": 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "RESOURCE_LIMIT_EXCEEDED": 400,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "PERMISSION_DENIED": 403,
    "UNAUTHENTICATED": 401,
    "INTERNAL_ERROR": 500,
    "NOT_IMPLEMENTED": 501,
}


class MlflowError(Exception):
    # A denial names what was refused and the level it needed; the API boundary audits it.
    target = None
    need = None

    def __init__(self, message: str, error_code: str = "INVALID_PARAMETER_VALUE"):
        super().__init__(message)
        self.message = message
        self.error_code = error_code

    @property
    def status(self) -> int:
        return STATUS_BY_CODE.get(self.error_code, 400)

    def as_json(self) -> dict:
        return {"error_code": self.error_code, "message": self.message}


def invalid(message: str) -> MlflowError:
    return MlflowError(message, "INVALID_PARAMETER_VALUE")


def not_found(message: str) -> MlflowError:
    return MlflowError(message, "RESOURCE_DOES_NOT_EXIST")


def already_exists(message: str) -> MlflowError:
    return MlflowError(message, "RESOURCE_ALREADY_EXISTS")


def denied(message: str = "Permission denied", *, target=None, need=None) -> MlflowError:
    """403 for a visible ``target``; ``need`` is the level (or the condition) it lacked."""
    error = MlflowError(message, "PERMISSION_DENIED")
    error.target, error.need = target, need
    return error


def invalid_state(message: str) -> MlflowError:
    return MlflowError(message, "INVALID_STATE")
