from app.kit.errors import Conflict, StammkundeError, Unprocessable


class ImportFileInvalid(Unprocessable):
    code = "import_file_invalid"
    title = "Import file invalid"


class ImportMappingInvalid(Unprocessable):
    code = "import_mapping_invalid"
    title = "Import column mapping invalid"


class ImportConflict(Conflict):
    code = "import_conflict"
    title = "Import collided with a concurrent change"


class UnsupportedMediaType(StammkundeError):
    status = 415
    code = "unsupported_media_type"
    title = "Unsupported media type"
