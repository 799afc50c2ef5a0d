/*-------------------------------------------------------------------------
 *
 * detect.c
 *	  What an uploaded file is, before it is read:
 *	  - documents that are not CSV (zip-based .xlsx/.docx/.ods/.numbers,
 *	    OLE2 .xls/.doc, PDF, RTF), by their first bytes;
 *	  - the encoding: a byte-order mark; UTF-16 without one; UTF-8; else a
 *	    single-byte (or East Asian) encoding named by two independent
 *	    detectors, uchardet and ICU's charset detector, when they agree, and
 *	    Windows-1252 (what Excel writes in western locales) when they do not;
 *	    CR-only line ends (old Excel for Mac) mean MacRoman;
 *	  - the delimiter: comma, semicolon or tab, from the first rows.
 *	  It also converts, with ICU, the encodings PostgreSQL has no conversion
 *	  for: UTF-16, UTF-32 and MacRoman.
 *
 *-------------------------------------------------------------------------
 */
#include "detect.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <uchardet/uchardet.h>
#include <unicode/uchar.h>
#include <unicode/ucnv.h>
#include <unicode/ucsdet.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

/* Bytes of lines with non-ASCII characters the detectors look at. */
#define PT_DETECT_SAMPLE	(64 * 1024)

/* Bytes the delimiter detection reads at most. */
#define PT_DELIMITER_SCAN	(256 * 1024)

/* UTF-16 units converted per step by pt_icu_to_utf8. */
#define PT_CONV_CHUNK		4096

/* ---- Documents that are not CSV ---- */

typedef struct PtKindInfo
{
	const char *name;			/* what the file is, for the message */
	const char *signature;		/* how it was recognised, for the detail */
	const char *hint;
} PtKindInfo;

#define HINT_SPREADSHEET "Open it in the program it came from and save it as \"CSV UTF-8\" " \
	"(in Excel: File > Save As > CSV UTF-8 (Comma delimited)), then import the .csv file."
#define HINT_DOCUMENT "Export the client list from the program it came from as a CSV file " \
	"(\"CSV UTF-8\"), or copy the table into a spreadsheet and save that as CSV UTF-8."

static const PtKindInfo kinds[] = {
	[PT_KIND_TEXT] = {"a text file", "", ""},
	[PT_KIND_XLSX] = {"an Excel workbook (.xlsx)",
		"It is a zip archive holding a workbook, which is how .xlsx files are stored.",
	HINT_SPREADSHEET},
	[PT_KIND_DOCX] = {"a Word document (.docx)",
		"It is a zip archive holding a Word document.", HINT_DOCUMENT},
	[PT_KIND_ODS] = {"an OpenDocument spreadsheet (.ods)",
		"It is a zip archive holding an OpenDocument spreadsheet.", HINT_SPREADSHEET},
	[PT_KIND_NUMBERS] = {"an Apple Numbers document",
		"It is a zip archive holding a Numbers document.",
	"In Numbers, choose File > Export To > CSV, with Unicode (UTF-8) text encoding, then import the .csv file."},
	[PT_KIND_ZIP] = {"a zip archive",
		"It starts with the bytes of a zip archive (PK).", HINT_SPREADSHEET},
	[PT_KIND_XLS] = {"an Excel 97-2003 workbook (.xls)",
		"It starts with the bytes of an Office 97-2003 file and holds a workbook.",
	HINT_SPREADSHEET},
	[PT_KIND_DOC] = {"a Word 97-2003 document (.doc)",
		"It starts with the bytes of an Office 97-2003 file and holds a Word document.",
	HINT_DOCUMENT},
	[PT_KIND_OLE2] = {"an Office 97-2003 document",
		"It starts with the bytes of an Office 97-2003 file.", HINT_SPREADSHEET},
	[PT_KIND_PDF] = {"a PDF document", "It starts with %PDF-.", HINT_DOCUMENT},
	[PT_KIND_RTF] = {"an RTF document", "It starts with {\\rtf.", HINT_DOCUMENT},
};

/* True when needle (n bytes) occurs in data. */
static bool
contains(const unsigned char *data, size_t len, const void *needle, size_t n)
{
	const unsigned char *first = needle;
	size_t		i = 0;

	if (n == 0 || n > len)
		return n == 0;
	while (i + n <= len)
	{
		const unsigned char *p = memchr(data + i, first[0], len - n + 1 - i);

		if (p == NULL)
			return false;
		if (memcmp(p, needle, n) == 0)
			return true;
		i = (size_t) (p - data) + 1;
	}
	return false;
}

/* What the file is, judged from its first bytes (and names inside archives). */
PtFileKind
pt_sniff_kind(const void *data, size_t len)
{
	const unsigned char *d = data;

	if (len >= 4 && d[0] == 'P' && d[1] == 'K' &&
		((d[2] == 3 && d[3] == 4) || (d[2] == 5 && d[3] == 6) || (d[2] == 7 && d[3] == 8)))
	{
		/* Names of a zip's entries are stored uncompressed. */
		if (contains(d, len, "mimetypeapplication/vnd.oasis.opendocument.spreadsheet", 54))
			return PT_KIND_ODS;
		if (contains(d, len, "xl/", 3))
			return PT_KIND_XLSX;
		if (contains(d, len, "word/", 5))
			return PT_KIND_DOCX;
		if (contains(d, len, "Index/Document.iwa", 18))
			return PT_KIND_NUMBERS;
		return PT_KIND_ZIP;
	}
	if (len >= 8 && memcmp(d, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8) == 0)
	{
		/* Stream names in the directory are UTF-16LE. */
		if (contains(d, len, "W\0o\0r\0k\0b\0o\0o\0k\0", 16) ||
			contains(d, len, "B\0o\0o\0k\0\0\0", 10))
			return PT_KIND_XLS;
		if (contains(d, len, "W\0o\0r\0d\0D\0o\0c\0u\0m\0e\0n\0t\0", 24))
			return PT_KIND_DOC;
		return PT_KIND_OLE2;
	}
	if (len >= 5 && memcmp(d, "%PDF-", 5) == 0)
		return PT_KIND_PDF;
	if (len >= 5 && memcmp(d, "{\\rtf", 5) == 0)
		return PT_KIND_RTF;
	return PT_KIND_TEXT;
}

/* "an Excel workbook (.xlsx)" and the like. */
const char *
pt_kind_name(PtFileKind kind)
{
	return kinds[kind].name;
}

/* A sentence saying how the kind was recognised. */
const char *
pt_kind_signature(PtFileKind kind)
{
	return kinds[kind].signature;
}

/* A sentence saying how to make a CSV file of it. */
const char *
pt_kind_hint(PtFileKind kind)
{
	return kinds[kind].hint;
}

/* ---- Byte-order marks and UTF-16 without one ---- */

/* The byte-order mark data starts with, if any; *bom_len gets its length. */
PtBom
pt_detect_bom(const void *data, size_t len, size_t *bom_len)
{
	const unsigned char *d = data;

	*bom_len = 0;
	if (len >= 4 && memcmp(d, "\xFF\xFE\0\0", 4) == 0)
		return (*bom_len = 4), PT_BOM_UTF32LE;
	if (len >= 4 && memcmp(d, "\0\0\xFE\xFF", 4) == 0)
		return (*bom_len = 4), PT_BOM_UTF32BE;
	if (len >= 3 && memcmp(d, "\xEF\xBB\xBF", 3) == 0)
		return (*bom_len = 3), PT_BOM_UTF8;
	if (len >= 2 && d[0] == 0xFF && d[1] == 0xFE)
		return (*bom_len = 2), PT_BOM_UTF16LE;
	if (len >= 2 && d[0] == 0xFE && d[1] == 0xFF)
		return (*bom_len = 2), PT_BOM_UTF16BE;
	return PT_BOM_NONE;
}

/* The encoding a byte-order mark stands for, as logged. */
const char *
pt_bom_encoding(PtBom bom)
{
	switch (bom)
	{
		case PT_BOM_UTF8:
			return "UTF8";
		case PT_BOM_UTF16LE:
			return "UTF-16LE";
		case PT_BOM_UTF16BE:
			return "UTF-16BE";
		case PT_BOM_UTF32LE:
			return "UTF-32LE";
		case PT_BOM_UTF32BE:
			return "UTF-32BE";
		case PT_BOM_NONE:
			break;
	}
	return NULL;
}

/*
 * PT_BOM_UTF16LE or PT_BOM_UTF16BE when the file looks like UTF-16 without
 * a byte-order mark: in at least half of its first 2048 byte pairs one byte
 * is 0 and the other is not, always the same one.  Else PT_BOM_NONE.
 */
PtBom
pt_utf16_without_bom(const void *data, size_t len)
{
	const unsigned char *d = data;
	size_t		pairs = len / 2 < 2048 ? len / 2 : 2048;
	size_t		le = 0;
	size_t		be = 0;
	size_t		i;

	for (i = 0; i < pairs; i++)
	{
		unsigned char a = d[2 * i];
		unsigned char b = d[2 * i + 1];

		if (a != 0 && b == 0)
			le++;
		else if (a == 0 && b != 0)
			be++;
	}
	if (pairs == 0)
		return PT_BOM_NONE;
	if (le * 2 >= pairs && le > be)
		return PT_BOM_UTF16LE;
	if (be * 2 >= pairs && be > le)
		return PT_BOM_UTF16BE;
	return PT_BOM_NONE;
}

/* ---- UTF-8 ---- */

/*
 * Length of the valid UTF-8 sequence of 2 to 4 bytes at d (n bytes left),
 * or 0: no overlong forms, surrogates or code points past U+10FFFF.
 */
static size_t
utf8_sequence(const unsigned char *d, size_t n)
{
	unsigned char c = d[0];
	size_t		need;
	size_t		k;

	if (c >= 0xC2 && c <= 0xDF)
		need = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		need = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		need = 4;
	else
		return 0;
	if (n < need)
		return 0;
	for (k = 1; k < need; k++)
		if ((d[k] & 0xC0) != 0x80)
			return 0;
	if ((c == 0xE0 && d[1] < 0xA0) || (c == 0xED && d[1] > 0x9F) ||
		(c == 0xF0 && d[1] < 0x90) || (c == 0xF4 && d[1] > 0x8F))
		return 0;
	return need;
}

/*
 * Checks that data is UTF-8, and notes whether it holds valid multi-byte
 * sequences: a file with both those and invalid bytes mixes encodings.
 * Runs of ASCII are skipped eight bytes at a time.
 */
void
pt_utf8_scan(const void *data, size_t len, PtUtf8Scan *scan)
{
	const unsigned char *d = data;
	size_t		i = 0;

	memset(scan, 0, sizeof(*scan));
	scan->valid = true;
	while (i < len)
	{
		size_t		n;

		if (i + 8 <= len)
		{
			uint64_t	word;

			memcpy(&word, d + i, 8);
			if ((word & UINT64_C(0x8080808080808080)) == 0)
			{
				i += 8;
				continue;
			}
		}
		if (d[i] < 0x80)
		{
			i++;
			continue;
		}
		n = utf8_sequence(d + i, len - i);
		if (n == 0)
		{
			if (scan->valid)
			{
				scan->valid = false;
				scan->first_invalid = i;
			}
			i++;
		}
		else
		{
			if (!scan->has_multibyte)
			{
				scan->has_multibyte = true;
				scan->first_multibyte = i;
			}
			i += n;
		}
		if (!scan->valid && scan->has_multibyte)
			break;				/* all there is to know */
	}
}

/* ---- Encoding names ---- */

/* The encodings read with ICU's converters, by the names accepted for them. */
typedef struct PtIcuName
{
	const char *key;			/* lower case, letters and digits only */
	const char *name;			/* as logged */
} PtIcuName;

static const PtIcuName icu_names[] = {
	{"utf16le", "UTF-16LE"},
	{"utf16be", "UTF-16BE"},
	{"utf16", "UTF-16"},
	{"utf32le", "UTF-32LE"},
	{"utf32be", "UTF-32BE"},
	{"utf32", "UTF-32"},
	{"macintosh", "MACINTOSH"},
	{"macroman", "MACINTOSH"},
	{"xmacroman", "MACINTOSH"},
	{"mac", "MACINTOSH"},
};

/*
 * The name, as logged, of an encoding that ICU converts (UTF-16, UTF-32
 * and MacRoman, whatever the case and punctuation), or NULL.  "UTF-16" and
 * "UTF-32" leave the byte order to the file.
 */
const char *
pt_icu_encoding(const char *name)
{
	char		key[16];
	size_t		n = 0;
	size_t		i;

	for (; *name != '\0'; name++)
	{
		char		c = *name;

		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			continue;
		if (n + 1 >= sizeof(key))
			return NULL;
		key[n++] = c;
	}
	key[n] = '\0';
	for (i = 0; i < sizeof(icu_names) / sizeof(icu_names[0]); i++)
		if (strcmp(key, icu_names[i].key) == 0)
			return icu_names[i].name;
	return NULL;
}

/* What the NOTICE calls an encoding. */
const char *
pt_encoding_label(const char *name)
{
	static const char *const labels[][2] = {
		{"UTF8", "UTF-8"},
		{"WIN1250", "Windows-1250"},
		{"WIN1251", "Windows-1251"},
		{"WIN1252", "Windows-1252"},
		{"WIN1253", "Windows-1253"},
		{"WIN1254", "Windows-1254"},
		{"WIN1255", "Windows-1255"},
		{"WIN1256", "Windows-1256"},
		{"WIN1257", "Windows-1257"},
		{"WIN1258", "Windows-1258"},
		{"WIN866", "CP866"},
		{"LATIN1", "ISO-8859-1"},
		{"LATIN2", "ISO-8859-2"},
		{"LATIN9", "ISO-8859-15"},
		{"MACINTOSH", "MacRoman"},
		{"SJIS", "Shift JIS"},
	};
	size_t		i;

	for (i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		if (strcmp(name, labels[i][0]) == 0)
			return labels[i][1];
	return name;
}

/*
 * Encodings the two detectors may name, with PostgreSQL's name for each and
 * its family: encodings of one family write the same script, and the
 * detectors agree when they name the same family.
 */
typedef struct PtCharset
{
	const char *detected;		/* as uchardet or ICU names it (any case) */
	const char *pg_name;
	int			family;
} PtCharset;

enum
{
	FAMILY_WESTERN = 1,
	FAMILY_CENTRAL,
	FAMILY_CYRILLIC,
	FAMILY_GREEK,
	FAMILY_TURKISH,
	FAMILY_HEBREW,
	FAMILY_ARABIC,
	FAMILY_BALTIC,
	FAMILY_JAPANESE_SJIS,
	FAMILY_JAPANESE_EUC,
	FAMILY_CHINESE_GB,
	FAMILY_CHINESE_BIG5,
	FAMILY_KOREAN
};

static const PtCharset charsets[] = {
	/* Windows-1252 has every printable ISO-8859-1 character, and more. */
	{"windows-1252", "WIN1252", FAMILY_WESTERN},
	{"iso-8859-1", "WIN1252", FAMILY_WESTERN},
	{"iso-8859-15", "LATIN9", FAMILY_WESTERN},
	{"windows-1250", "WIN1250", FAMILY_CENTRAL},
	{"iso-8859-2", "LATIN2", FAMILY_CENTRAL},
	{"windows-1251", "WIN1251", FAMILY_CYRILLIC},
	{"iso-8859-5", "ISO_8859_5", FAMILY_CYRILLIC},
	{"koi8-r", "KOI8R", FAMILY_CYRILLIC},
	{"ibm866", "WIN866", FAMILY_CYRILLIC},
	{"windows-1253", "WIN1253", FAMILY_GREEK},
	{"iso-8859-7", "ISO_8859_7", FAMILY_GREEK},
	{"windows-1254", "WIN1254", FAMILY_TURKISH},
	{"iso-8859-9", "LATIN5", FAMILY_TURKISH},
	{"windows-1255", "WIN1255", FAMILY_HEBREW},
	{"iso-8859-8", "ISO_8859_8", FAMILY_HEBREW},
	{"iso-8859-8-i", "ISO_8859_8", FAMILY_HEBREW},
	{"windows-1256", "WIN1256", FAMILY_ARABIC},
	{"iso-8859-6", "ISO_8859_6", FAMILY_ARABIC},
	{"windows-1257", "WIN1257", FAMILY_BALTIC},
	{"iso-8859-13", "LATIN7", FAMILY_BALTIC},
	{"shift_jis", "SJIS", FAMILY_JAPANESE_SJIS},
	{"euc-jp", "EUC_JP", FAMILY_JAPANESE_EUC},
	{"gb18030", "GB18030", FAMILY_CHINESE_GB},
	{"big5", "BIG5", FAMILY_CHINESE_BIG5},
	{"euc-kr", "EUC_KR", FAMILY_KOREAN},
};

/* The entry of charsets for a detector's answer, or NULL. */
static const PtCharset *
charset_lookup(const char *detected)
{
	size_t		i;

	if (detected == NULL)
		return NULL;
	for (i = 0; i < sizeof(charsets) / sizeof(charsets[0]); i++)
	{
		const char *a = charsets[i].detected;
		const char *b = detected;

		while (*a != '\0' && *b != '\0' &&
			   *a == ((*b >= 'A' && *b <= 'Z') ? *b + ('a' - 'A') : *b))
			a++, b++;
		if (*a == '\0' && *b == '\0')
			return &charsets[i];
	}
	return NULL;
}

/*
 * Copies the lines of data that hold a byte >= 0x80 into sample (at most
 * PT_DETECT_SAMPLE bytes): the evidence the detectors weigh, without the
 * ASCII lines that would dilute it.
 */
static size_t
detection_sample(const unsigned char *d, size_t len, unsigned char *sample)
{
	size_t		used = 0;
	size_t		start = 0;

	while (start < len && used < PT_DETECT_SAMPLE)
	{
		size_t		end = start;
		bool		high = false;

		while (end < len && d[end] != '\n' && d[end] != '\r')
			high |= d[end++] >= 0x80;
		while (end < len && (d[end] == '\n' || d[end] == '\r'))
			end++;
		if (high)
		{
			size_t		n = end - start;

			if (n > PT_DETECT_SAMPLE - used)
				n = PT_DETECT_SAMPLE - used;
			memcpy(sample + used, d + start, n);
			used += n;
		}
		start = end;
	}
	return used;
}

/*
 * How many bytes >= 0x80 of the sample stand for letters in an encoding
 * (ICU's converter name): text read in its own encoding has accented
 * letters there, read in another one often punctuation or nothing.
 */
static size_t
letters(const unsigned char *sample, size_t len, const char *converter)
{
	UErrorCode	err = U_ZERO_ERROR;
	UConverter *conv = ucnv_open(converter, &err);
	bool		letter[128];
	size_t		count = 0;
	size_t		i;

	if (U_FAILURE(err))
		return 0;
	for (i = 0; i < 128; i++)
	{
		char		byte = (char) (0x80 + i);
		UChar		unit[2];
		int32_t		n;

		err = U_ZERO_ERROR;
		ucnv_reset(conv);
		n = ucnv_toUChars(conv, unit, 2, &byte, 1, &err);
		letter[i] = U_SUCCESS(err) && n == 1 && u_isalpha(unit[0]);
	}
	ucnv_close(conv);
	for (i = 0; i < len; i++)
		if (sample[i] >= 0x80 && letter[sample[i] - 0x80])
			count++;
	return count;
}

/* uchardet's answer for the sample, or NULL. */
static const PtCharset *
ask_uchardet(const unsigned char *sample, size_t len)
{
	uchardet_t	ud = uchardet_new();
	const PtCharset *found = NULL;

	if (ud == NULL)
		return NULL;
	if (uchardet_handle_data(ud, (const char *) sample, len) == 0)
	{
		uchardet_data_end(ud);
		found = charset_lookup(uchardet_get_charset(ud));
	}
	uchardet_delete(ud);
	return found;
}

/* ICU's best answer for the sample, or NULL. */
static const PtCharset *
ask_icu(const unsigned char *sample, size_t len)
{
	UErrorCode	err = U_ZERO_ERROR;
	UCharsetDetector *detector = ucsdet_open(&err);
	const PtCharset *found = NULL;

	if (U_FAILURE(err))
		return NULL;
	ucsdet_setText(detector, (const char *) sample, (int32_t) len, &err);
	if (U_SUCCESS(err))
	{
		const UCharsetMatch *match = ucsdet_detect(detector, &err);

		if (U_SUCCESS(err) && match != NULL)
		{
			const char *name = ucsdet_getName(match, &err);

			if (U_SUCCESS(err))
				found = charset_lookup(name);
		}
	}
	ucsdet_close(detector);
	return found;
}

/*
 * The encoding of a file that is not UTF-8, by PostgreSQL's name (or
 * "MACINTOSH"): MacRoman when its lines end in CR only (old Excel for Mac,
 * "CSV (Macintosh)") and its bytes >= 0x80 are letters in MacRoman at least
 * as often as in Windows-1252; else what uchardet and ICU both name, when they name
 * encodings of the same family (then ICU's, which tells the Windows and ISO
 * variants apart); else Windows-1252.  Each detector alone guesses wildly on
 * a short list of names, so agreement is what counts as sure.
 */
const char *
pt_guess_single_byte(const void *data, size_t len)
{
	const unsigned char *d = data;
	unsigned char *sample;
	size_t		sample_len;
	const PtCharset *by_uchardet;
	const PtCharset *by_icu;

	sample = malloc(PT_DETECT_SAMPLE);
	if (sample == NULL)
		return "WIN1252";
	sample_len = detection_sample(d, len, sample);

	/*
	 * CR-only line ends: old Excel for Mac, unless the characters make more
	 * sense as Windows-1252 (a Windows program that ended lines in CR).
	 */
	if (memchr(d, '\n', len) == NULL && memchr(d, '\r', len) != NULL &&
		letters(sample, sample_len, "macintosh") >= letters(sample, sample_len, "windows-1252"))
	{
		free(sample);
		return "MACINTOSH";
	}

	by_uchardet = ask_uchardet(sample, sample_len);
	by_icu = ask_icu(sample, sample_len);
	free(sample);

	if (by_uchardet != NULL && by_icu != NULL && by_uchardet->family == by_icu->family)
		return by_icu->pg_name;
	return "WIN1252";
}

/* ---- Conversion with ICU ---- */

/* ICU's converter for an encoding as logged. */
static const char *
icu_converter(const char *encoding)
{
	if (strcmp(encoding, "MACINTOSH") == 0)
		return "macintosh";
	return encoding;			/* UTF-16LE and the like are ICU's names too */
}

/* Most bytes of UTF-8 that len bytes in encoding can become. */
size_t
pt_icu_output_bound(const char *encoding, size_t len)
{
	if (strncmp(encoding, "UTF-16", 6) == 0)
		return (len + 1) / 2 * 3 + 16;	/* a unit: up to 3 bytes */
	if (strncmp(encoding, "UTF-32", 6) == 0)
		return len + 16;		/* a code point: up to 4 bytes */
	return len * 3 + 16;		/* a MacRoman byte: up to 3 bytes */
}

/*
 * Converts len bytes of src, in encoding (one that pt_icu_encoding names,
 * with its byte order decided), to UTF-8 in dst (dst_size bytes, at least
 * pt_icu_output_bound).  *dst_len gets the length converted, also when
 * bytes invalid in the encoding stop the conversion: the result is then
 * PT_CONV_INVALID, with those bytes at *bad_offset and *bad_length.
 */
PtConvStatus
pt_icu_to_utf8(const char *encoding, const void *src, size_t len,
			   char *dst, size_t dst_size, size_t *dst_len,
			   size_t *bad_offset, size_t *bad_length)
{
	UErrorCode	err = U_ZERO_ERROR;
	UConverter *conv;
	const char *source = src;
	const char *source_limit = source + len;
	UChar		units[PT_CONV_CHUNK + 1];
	int32_t		carry = 0;
	size_t		out = 0;
	PtConvStatus status = PT_CONV_OK;
	bool		more;

	*dst_len = 0;
	*bad_offset = 0;
	*bad_length = 0;
	conv = ucnv_open(icu_converter(encoding), &err);
	if (U_FAILURE(err))
		return PT_CONV_FAILED;
	ucnv_setToUCallBack(conv, UCNV_TO_U_CALLBACK_STOP, NULL, NULL, NULL, &err);
	if (U_FAILURE(err))
	{
		ucnv_close(conv);
		return PT_CONV_FAILED;
	}

	do
	{
		UChar	   *target = units + carry;
		int32_t		n;
		int32_t		written = 0;
		UErrorCode	err2 = U_ZERO_ERROR;

		err = U_ZERO_ERROR;
		ucnv_toUnicode(conv, &target, units + PT_CONV_CHUNK, &source, source_limit,
					   NULL, 1, &err);
		more = (err == U_BUFFER_OVERFLOW_ERROR);
		if (U_FAILURE(err) && !more)
		{
			char		invalid[32];
			int8_t		invalid_len = (int8_t) sizeof(invalid);
			UErrorCode	err3 = U_ZERO_ERROR;

			if (err == U_ILLEGAL_CHAR_FOUND || err == U_INVALID_CHAR_FOUND ||
				err == U_TRUNCATED_CHAR_FOUND)
			{
				ucnv_getInvalidChars(conv, invalid, &invalid_len, &err3);
				if (U_FAILURE(err3))
					invalid_len = 0;
				*bad_length = (size_t) invalid_len;
				*bad_offset = (size_t) (source - (const char *) src) - (size_t) invalid_len;
				status = PT_CONV_INVALID;
			}
			else
				status = PT_CONV_FAILED;
		}

		/* A surrogate pair cut by the end of the chunk waits for its end. */
		n = (int32_t) (target - units);
		carry = 0;
		if (more && n > 0 && U16_IS_LEAD(units[n - 1]))
		{
			n--;
			carry = 1;
		}
		if (n > 0)
		{
			u_strToUTF8(dst + out, (int32_t) (dst_size - out > INT32_MAX ? INT32_MAX : dst_size - out),
						&written, units, n, &err2);
			if (U_FAILURE(err2))
			{
				status = PT_CONV_FAILED;
				break;
			}
			out += (size_t) written;
		}
		if (carry)
			units[0] = units[n];
	} while (more && status == PT_CONV_OK);

	ucnv_close(conv);
	*dst_len = out;
	return status;
}

/* ---- Delimiter ---- */

static const char candidates[] = {',', ';', '\t'};

#define NCANDIDATES ((int) sizeof(candidates))

/*
 * The delimiter of a file (UTF-8 text): of comma, semicolon and tab, the
 * one that splits the most of the first PT_DETECT_ROWS non-blank rows into
 * 5 to 9 fields (not counting empty fields at the end of a row), or into as
 * many fields as the first row when that has more (an export with a header
 * and other columns).  Quotes are respected.  Comma wins ties, and when no
 * other delimiter fits at least half of the rows.
 */
char
pt_detect_delimiter(const char *text, size_t len)
{
	const unsigned char *d = (const unsigned char *) text;
	size_t		limit = len < PT_DELIMITER_SCAN ? len : PT_DELIMITER_SCAN;
	int			fits[NCANDIDATES] = {0};
	int			first_fields[NCANDIDATES] = {0};
	int			fields[NCANDIDATES];
	int			used[NCANDIDATES];
	bool		content[NCANDIDATES];
	int			rows = 0;
	bool		quoted = false;
	size_t		i;
	int			c;
	int			best;

	for (c = 0; c < NCANDIDATES; c++)
	{
		fields[c] = 1;
		used[c] = 0;
		content[c] = false;
	}
	for (i = 0; i <= limit && rows < PT_DETECT_ROWS; i++)
	{
		unsigned char ch = i < limit ? d[i] : '\n';

		if (ch == '"')
		{
			/* "" inside quotes toggles twice: a quote that stays a quote. */
			quoted = !quoted;
			for (c = 0; c < NCANDIDATES; c++)
				content[c] = true;
			continue;
		}
		if (quoted && i < limit)
			continue;
		if (ch == '\n' || ch == '\r')
		{
			bool		blank = true;

			quoted = false;
			for (c = 0; c < NCANDIDATES; c++)
			{
				if (content[c])
					used[c] = fields[c];
				if (used[c] > 0)
					blank = false;
			}
			if (!blank)
			{
				for (c = 0; c < NCANDIDATES; c++)
				{
					if (rows == 0)
						first_fields[c] = fields[c];
					if ((used[c] >= 5 && used[c] <= 9) ||
						(fields[c] > 9 && fields[c] == first_fields[c]))
						fits[c]++;
				}
				rows++;
			}
			for (c = 0; c < NCANDIDATES; c++)
			{
				fields[c] = 1;
				used[c] = 0;
				content[c] = false;
			}
			continue;
		}
		for (c = 0; c < NCANDIDATES; c++)
		{
			if (ch == (unsigned char) candidates[c])
			{
				if (content[c])
					used[c] = fields[c];
				fields[c]++;
				content[c] = false;
			}
			else if (ch != ' ' && ch != '\t')
				content[c] = true;
		}
	}

	best = 0;
	for (c = 1; c < NCANDIDATES; c++)
		if (fits[c] > fits[best])
			best = c;
	if (best != 0 && fits[best] * 2 < rows)
		best = 0;
	return candidates[best];
}

/* "comma", "semicolon", "tab" or "pipe". */
const char *
pt_delimiter_name(char delimiter)
{
	switch (delimiter)
	{
		case ';':
			return "semicolon";
		case '\t':
			return "tab";
		case '|':
			return "pipe";
		default:
			return "comma";
	}
}
