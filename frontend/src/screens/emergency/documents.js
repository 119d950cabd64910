const PROFILE = 'bloodGroup advanceDirectives emergencyContacts { name phone relation }';

// The profile is edited only while the record is ACTIVE: its status comes with it.
export const MY_PROFILE = `query MyEmergencyProfile { myRecordStatus { status } myRecord { emergencyProfile { ${PROFILE} } } }`;

export const UPDATE = `mutation UpdateEmergencyProfile($input: EmergencyProfileInput!) {
  updateEmergencyProfile(input: $input) { emergencyProfile { ${PROFILE} } } }`;

