export const UPLOAD = `mutation UploadDocument($file: Upload!, $title: String!, $section: Section!, $documentType: String, $description: String, $date: Date) {
  uploadDocument(file: $file, title: $title, section: $section, documentType: $documentType, description: $description, date: $date) {
    entry { id title }
  }
}`;
