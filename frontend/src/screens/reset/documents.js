export const REQUEST_RESET = `mutation RequestPasswordReset($identifier: String!) {
  requestPasswordReset(identifier: $identifier) { attemptToken }
}`;

export const RESET_PASSWORD = `mutation ResetPassword($attemptToken: String!, $code: String!, $newPassword: String!) {
  resetPassword(attemptToken: $attemptToken, code: $code, newPassword: $newPassword)
}`;
