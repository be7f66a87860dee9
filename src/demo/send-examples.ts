// The commands `npm run demo` prints (and the README shows) for sending a first test message. The
// message carries a From field: the gateway refuses one without (550 5.6.0), as SES would; and a To
// field, which the sink's page lists (it shows header fields, not the envelope).
export function sendExamples(port: number): { swaks: string; python: string } {
  return {
    swaks: `swaks --server 127.0.0.1:${port} --from app@example.com --to user@example.net`,
    python: `python3 -c "import smtplib; smtplib.SMTP('127.0.0.1', ${port}).sendmail('app@example.com', ['user@example.net'], 'From: app@example.com\\nTo: user@example.net\\nSubject: hi\\n\\nhello')"`,
  };
}
