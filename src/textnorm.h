/*-------------------------------------------------------------------------
 *
 * textnorm.h
 *	  Unicode for values and header cells: trimming every kind of space,
 *	  finding control and invisible characters, NFC, case folding.  Plain
 *	  ASCII takes a fast path that never calls ICU.  Pure C (ICU, no
 *	  PostgreSQL headers).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PTIMPORT_TEXTNORM_H
#define PTIMPORT_TEXTNORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Values longer than this many bytes are not normalised: no field allows a
 * value that long, even after NFC has composed its characters.
 */
#define PT_NORM_MAX_BYTES 4096

typedef enum PtTextStatus
{
	PT_TEXT_OK = 0,
	PT_TEXT_CONTROL,			/* a control character (Cc) */
	PT_TEXT_INVISIBLE,			/* a format character (Cf) or U+2028/U+2029 */
	PT_TEXT_TOO_LONG			/* too long to normalise (see above) */
} PtTextStatus;

/* What pt_text_clean found out about one value. */
typedef struct PtText
{
	const char *s;				/* the clean value: trimmed, NFC */
	size_t		len;			/* its length in bytes */
	size_t		chars;			/* and in characters (code points) */
	uint32_t	bad_char;		/* the first control or invisible character */
	bool		ascii;			/* all of it is ASCII */
} PtText;

extern PtTextStatus pt_text_clean(const char *s, size_t len, char *buf,
								  size_t bufsize, PtText *text);
extern size_t pt_fold_case(const char *s, size_t len, char *buf, size_t bufsize);
extern size_t pt_utf8_chars(const char *s, size_t len);

#endif							/* PTIMPORT_TEXTNORM_H */
