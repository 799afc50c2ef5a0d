/*-------------------------------------------------------------------------
 *
 * textnorm.c
 *	  Unicode for values and header cells, with ICU: a value is trimmed of
 *	  every space character (general category Zs, e.g. no-break, thin and
 *	  ideographic spaces) and tabs, checked for control characters (Cc) and
 *	  invisible ones (format characters Cf such as zero-width spaces and
 *	  direction marks, and the line and paragraph separators U+2028 and
 *	  U+2029), and normalised to NFC.  A value of plain ASCII is already all
 *	  of that and never reaches ICU.
 *
 *-------------------------------------------------------------------------
 */
#include "textnorm.h"

#include <string.h>

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf8.h>

/* Longest text pt_fold_case folds, in UTF-16 units. */
#define PT_FOLD_MAX 256

static PtTextStatus clean_unicode(const char *s, size_t len, char *buf,
								  size_t bufsize, PtText *text);

/* True for the characters trimmed from both ends of a value. */
static inline bool
is_trim_space(UChar32 c)
{
	if (c < 0x80)
		return c == ' ' || c == '\t';
	return u_charType(c) == U_SPACE_SEPARATOR;
}

/*
 * Cleans one value (already stripped of ASCII spaces, tabs and no-break
 * spaces by the reader): sets *text to the value trimmed and in NFC, its
 * length in characters, and the first control or invisible character in it.
 * text->s points into s when nothing had to change there, else into buf
 * (bufsize bytes), and is NUL-terminated when s is.  Returns PT_TEXT_TOO_LONG
 * when the value needed normalising and is too long for it (or for buf):
 * text->chars then still counts its characters.
 */
PtTextStatus
pt_text_clean(const char *s, size_t len, char *buf, size_t bufsize, PtText *text)
{
	const unsigned char *u = (const unsigned char *) s;
	size_t		i;

	for (i = 0; i < len; i++)
	{
		if (u[i] >= 0x80)
			return clean_unicode(s, len, buf, bufsize, text);
		if (u[i] < 0x20 || u[i] == 0x7F)
		{
			/* Any non-ASCII after it does not change the outcome's code. */
			text->s = s;
			text->len = len;
			text->chars = pt_utf8_chars(s, len);
			text->bad_char = u[i];
			text->ascii = false;
			return PT_TEXT_CONTROL;
		}
	}
	text->s = s;
	text->len = len;
	text->chars = len;
	text->bad_char = 0;
	text->ascii = true;
	return PT_TEXT_OK;
}

/* The part of pt_text_clean for values with non-ASCII characters. */
static PtTextStatus
clean_unicode(const char *s, size_t len, char *buf, size_t bufsize, PtText *text)
{
	const uint8_t *u = (const uint8_t *) s;
	int32_t		start = 0;
	int32_t		end;
	int32_t		i;
	UChar32		c;
	PtTextStatus status = PT_TEXT_OK;
	bool		need_nfc = false;
	size_t		chars = 0;
	UChar		utf16[PT_NORM_MAX_BYTES];
	UChar		nfc[PT_NORM_MAX_BYTES];
	int32_t		utf16_len;
	int32_t		nfc_len;
	int32_t		out_len;
	UErrorCode	err = U_ZERO_ERROR;
	const UNormalizer2 *normalizer;

	/* ICU indexes strings with int32_t; a value is under 1 GB anyway. */
	if (len > INT32_MAX)
	{
		text->s = s;
		text->len = len;
		text->chars = pt_utf8_chars(s, len);
		text->bad_char = 0;
		text->ascii = false;
		return PT_TEXT_TOO_LONG;
	}
	end = (int32_t) len;

	while (start < end)
	{
		i = start;
		U8_NEXT(u, i, end, c);
		if (!is_trim_space(c))
			break;
		start = i;
	}
	while (end > start)
	{
		i = end;
		U8_PREV(u, start, i, c);
		if (!is_trim_space(c))
			break;
		end = i;
	}

	text->bad_char = 0;
	text->ascii = false;
	for (i = start; i < end;)
	{
		int8_t		type;

		U8_NEXT(u, i, end, c);
		chars++;
		if (status != PT_TEXT_OK)
			continue;
		if (c < 0)
		{
			/* Not UTF-8 (only a fuzzer gets here): shown as U+FFFD. */
			text->bad_char = 0xFFFD;
			status = PT_TEXT_INVISIBLE;
			continue;
		}
		if (c < 0x80)
		{
			if (c < 0x20 || c == 0x7F)
			{
				text->bad_char = (uint32_t) c;
				status = PT_TEXT_CONTROL;
			}
			continue;
		}
		type = u_charType(c);
		if (type == U_CONTROL_CHAR)
		{
			text->bad_char = (uint32_t) c;
			status = PT_TEXT_CONTROL;
		}
		else if (type == U_FORMAT_CHAR || type == U_LINE_SEPARATOR ||
				 type == U_PARAGRAPH_SEPARATOR)
		{
			text->bad_char = (uint32_t) c;
			status = PT_TEXT_INVISIBLE;
		}
		else if (!need_nfc &&
				 (u_getIntPropertyValue(c, UCHAR_NFC_QUICK_CHECK) != UNORM_YES ||
				  u_getCombiningClass(c) != 0))
			need_nfc = true;
	}
	text->chars = chars;
	text->s = s + start;
	text->len = (size_t) (end - start);
	if (status != PT_TEXT_OK)
		return status;

	if (!need_nfc)
	{
		/* Trimmed at the end: copy, so that the value is NUL-terminated. */
		if ((size_t) end != len)
		{
			if (text->len + 1 > bufsize)
				return PT_TEXT_TOO_LONG;
			memcpy(buf, text->s, text->len);
			buf[text->len] = '\0';
			text->s = buf;
		}
		return PT_TEXT_OK;
	}

	if (text->len > PT_NORM_MAX_BYTES)
		return PT_TEXT_TOO_LONG;
	u_strFromUTF8(utf16, PT_NORM_MAX_BYTES, &utf16_len, text->s, (int32_t) text->len, &err);
	if (U_FAILURE(err))
		return PT_TEXT_TOO_LONG;
	normalizer = unorm2_getNFCInstance(&err);
	if (U_FAILURE(err))
		return PT_TEXT_TOO_LONG;
	nfc_len = unorm2_normalize(normalizer, utf16, utf16_len, nfc, PT_NORM_MAX_BYTES, &err);
	if (U_FAILURE(err))
		return PT_TEXT_TOO_LONG;	/* longer than any field allows */
	text->chars = (size_t) u_countChar32(nfc, nfc_len);
	err = U_ZERO_ERROR;
	u_strToUTF8(buf, bufsize > INT32_MAX ? INT32_MAX : (int32_t) bufsize, &out_len,
				nfc, nfc_len, &err);
	if (U_FAILURE(err) || err == U_STRING_NOT_TERMINATED_WARNING)
		return PT_TEXT_TOO_LONG;
	text->s = buf;
	text->len = (size_t) out_len;
	return PT_TEXT_OK;
}

/*
 * Folds s to lower case for caseless comparison (full folding: "ß" becomes
 * "ss") into buf, NUL-terminated; returns the length, or (size_t) -1 when s
 * is too long or not UTF-8.
 */
size_t
pt_fold_case(const char *s, size_t len, char *buf, size_t bufsize)
{
	UChar		utf16[PT_FOLD_MAX];
	UChar		folded[PT_FOLD_MAX];
	int32_t		n;
	int32_t		out_len;
	UErrorCode	err = U_ZERO_ERROR;
	size_t		i;

	for (i = 0; i < len; i++)
		if ((unsigned char) s[i] >= 0x80)
			break;
	if (i == len)
	{
		if (len + 1 > bufsize)
			return (size_t) -1;
		for (i = 0; i < len; i++)
			buf[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char) (s[i] + ('a' - 'A')) : s[i];
		buf[len] = '\0';
		return len;
	}

	if (len > PT_FOLD_MAX)
		return (size_t) -1;
	u_strFromUTF8(utf16, PT_FOLD_MAX, &n, s, (int32_t) len, &err);
	if (U_FAILURE(err))
		return (size_t) -1;
	n = u_strFoldCase(folded, PT_FOLD_MAX, utf16, n, U_FOLD_CASE_DEFAULT, &err);
	if (U_FAILURE(err))
		return (size_t) -1;
	u_strToUTF8(buf, bufsize > INT32_MAX ? INT32_MAX : (int32_t) bufsize, &out_len,
				folded, n, &err);
	if (U_FAILURE(err) || err == U_STRING_NOT_TERMINATED_WARNING)
		return (size_t) -1;
	return (size_t) out_len;
}

/* Characters in UTF-8 text: bytes that do not continue a sequence. */
size_t
pt_utf8_chars(const char *s, size_t len)
{
	size_t		n = 0;
	size_t		i;

	for (i = 0; i < len; i++)
		if (((unsigned char) s[i] & 0xC0) != 0x80)
			n++;
	return n;
}
