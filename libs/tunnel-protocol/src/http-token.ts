/** The characters besides ALPHA and DIGIT a token may hold (tchar, RFC 9110 5.6.2). */
export const TCHAR_PUNCTUATION = "!#$%&'*+-.^_`|~";

/**
 * A token (RFC 9110 5.6.2): one or more tchar. Methods, header names and transfer codings are
 * tokens; the head codec and the exit server's HTTP/1.1 parser both check them with this.
 */
export const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
