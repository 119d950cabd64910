const PROFILE = 'bloodGroup advanceDirectives emergencyContacts { name phone relation }';

export const MY_PROFILE = `query MyEmergencyProfile { myRecord { emergencyProfile { ${PROFILE} } } }`;

export const UPDATE = `mutation UpdateEmergencyProfile($input: EmergencyProfileInput!) {
  updateEmergencyProfile(input: $input) { emergencyProfile { ${PROFILE} } } }`;

