"""Reading an identity document's upload: the web channel's side of moncompte.identity.documents."""

from django.core.files.uploadhandler import FileUploadHandler, StopUpload


class SizeLimitedUploadHandler(FileUploadHandler):
    """Put first in ``request.upload_handlers``: stops reading a file larger than ``limit``.

    The rest of the request body is read and dropped (the page can still answer), nothing of the
    file is kept, and ``exceeded`` tells the view why the file is missing.
    """

    def __init__(self, request=None, *, limit: int):
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.exceeded = False

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.exceeded = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        return None
