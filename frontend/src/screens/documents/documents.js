export const UPLOAD = `mutation UploadDocument($file: Upload!, $title: String!, $section: Section!, $documentType: String, $description: String, $date: Date) {
  uploadDocument(file: $file, title: $title, section: $section, documentType: $documentType, description: $description, date: $date) {
    entry { id title }
  }
}`;

// Uploads and entries need an ACTIVE record; its status is readable in every status.
export const RECORD_STATUS = `query RecordStatus { myRecordStatus { status } }`;
