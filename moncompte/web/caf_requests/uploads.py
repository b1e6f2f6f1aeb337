"""The answer's files while they arrive: each cut off past the size limit, the count too."""

from django.core.files.uploadhandler import StopUpload

from moncompte.web.signup.uploads import SizeLimitedUploadHandler


class AnswerUploadHandler(SizeLimitedUploadHandler):
    """SizeLimitedUploadHandler (each file at most ``limit``), that also stops reading at the
    file after the ``max_files``-th: ``too_many`` tells the view. Either way the rest of the
    body is read and dropped, and nothing of the files is kept."""

    def __init__(self, request=None, *, limit: int, max_files: int):
        super().__init__(request, limit=limit)
        self.max_files = max_files
        self.files = 0
        self.too_many = False

    def new_file(self, *args, **kwargs):
        self.files += 1
        if self.files > self.max_files:
            self.too_many = True
            raise StopUpload(connection_reset=False)
        super().new_file(*args, **kwargs)
