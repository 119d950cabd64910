const LIFECYCLE = 'status closedAt reopenUntil deletionRequestedAt cancelDeletionUntil';

export const STATUS = `query RecordStatus { myRecordStatus { ${LIFECYCLE} } }`;

export const EXPORT = `mutation Export($format: ExportFormat!) { exportMyRecord(format: $format) { fileName contentType content } }`;

export const CLOSE = `mutation Close { closeMyRecord { status } }`;

export const REOPEN = `mutation Reopen { reopenMyRecord { status } }`;

export const REQUEST_DELETION = `mutation RequestDeletion { requestRecordDeletion { ${LIFECYCLE} } }`;

export const CANCEL_DELETION = `mutation CancelDeletion { cancelRecordDeletion { ${LIFECYCLE} } }`;

