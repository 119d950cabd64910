// The account's own address and number, as they are now (a screen changing them says what they are).
export const MY_CONTACTS = `query MyContacts { me { email phone } }`;
// A code goes to the new address or number; the change is made when it comes back.
export const CHANGE_EMAIL = `mutation ChangeEmail($value: String!) { changeEmail(newEmail: $value) { sentTo } }`;
export const CONFIRM_EMAIL = `mutation ConfirmEmailChange($code: String!) { confirmEmailChange(code: $code) }`;
export const CHANGE_PHONE = `mutation ChangePhone($value: String!) { changePhone(newPhone: $value) { sentTo } }`;
export const CONFIRM_PHONE = `mutation ConfirmPhoneChange($code: String!) { confirmPhoneChange(code: $code) }`;
