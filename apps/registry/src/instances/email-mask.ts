/**
 * The public list shows a masked email (`j***@example.com`): Second Me lists it in clear, but a
 * public endpoint that hands out every owner's address invites spam. The key stays for clients.
 */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at <= 0) return email ? '***' : '';
  return `${email[0]}***${email.slice(at)}`;
}
