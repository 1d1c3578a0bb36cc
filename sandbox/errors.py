"""The emulator's OpenAPI error answer, apart from its state so the API modules the state
builds on (the eco catalogue's snapshot) need not import the state back."""


class ApiError(Exception):
    """An OpenAPI error answer: HTTP status + Feishu code + msg."""

    def __init__(self, code: int, msg: str, status: int = 400):
        super().__init__(f"{code}: {msg}")
        self.code, self.msg, self.status = code, msg, status
