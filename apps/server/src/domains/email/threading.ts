// Threading by subject: routing.ts follows cited Message-IDs and this token in one query.
// Mail programs and people add spaces inside the brackets ("[# 1042]", "[ #1042 ]"); still our token.
const TOKEN = /\[\s*#\s*(\d{1,12})\s*\]/;

/** The `[#1042]` token we put in every subject we send. */
export function subjectToken(subject: string): number | null {
  const m = TOKEN.exec(subject);
  return m ? Number(m[1]) : null;
}

export function withToken(subject: string, number: number) {
  return subjectToken(subject) === number ? subject : `${subject} [#${number}]`;
}
