const PASSKEY = 'id name createdAt lastUsedAt';
export const SECURITY = `query Security { me { codeChannel } myPasskeys { ${PASSKEY} } mySessions { id createdAt lastSeenAt userAgent current } }`;
export const BEGIN_REGISTRATION = `mutation BeginPasskeyRegistration { beginPasskeyRegistration { optionsJson } }`;
export const FINISH_REGISTRATION = `mutation FinishPasskeyRegistration($credentialJson: String!, $name: String) {
  finishPasskeyRegistration(credentialJson: $credentialJson, name: $name) { ${PASSKEY} } }`;
export const RENAME_PASSKEY = `mutation RenamePasskey($id: ID!, $name: String!) { renamePasskey(id: $id, name: $name) { ${PASSKEY} } }`;
export const REMOVE_PASSKEY = `mutation RemovePasskey($id: ID!) { removePasskey(id: $id) }`;
export const REVOKE_SESSION = `mutation RevokeSession($id: ID!) { revokeSession(id: $id) }`;
export const LOGOUT_EVERYWHERE = `mutation LogoutEverywhere { logoutEverywhere }`;
export const CHANGE_PASSWORD = `mutation ChangePassword($currentPassword: String!, $newPassword: String!) {
  changePassword(currentPassword: $currentPassword, newPassword: $newPassword) }`;
export const SET_CODE_CHANNEL = `mutation SetCodeChannel($channel: CodeChannel!) { setCodeChannel(channel: $channel) }`;
