/*-------------------------------------------------------------------------
 *
 * detect.h
 *	  Finds out what an uploaded file is before it is read: a document that
 *	  is not CSV at all, its encoding (byte-order marks, UTF-8, a guess for
 *	  the rest), and its delimiter.  Also converts the encodings PostgreSQL
 *	  has no conversion for.  Pure C (ICU and uchardet, no PostgreSQL).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PTIMPORT_DETECT_H
#define PTIMPORT_DETECT_H

#include <stdbool.h>
#include <stddef.h>

/* What a file is, from its first bytes. */
typedef enum PtFileKind
{
	PT_KIND_TEXT = 0,			/* possibly CSV */
	PT_KIND_XLSX,
	PT_KIND_DOCX,
	PT_KIND_ODS,
	PT_KIND_NUMBERS,
	PT_KIND_ZIP,				/* another zip archive */
	PT_KIND_XLS,
	PT_KIND_DOC,
	PT_KIND_OLE2,				/* another Office 97-2003 file */
	PT_KIND_PDF,
	PT_KIND_RTF
} PtFileKind;

#define PT_KIND_LAST PT_KIND_RTF

extern PtFileKind pt_sniff_kind(const void *data, size_t len);
extern const char *pt_kind_name(PtFileKind kind);
extern const char *pt_kind_signature(PtFileKind kind);
extern const char *pt_kind_hint(PtFileKind kind);

/* Byte-order marks, the UTF-32 ones checked before UTF-16's. */
typedef enum PtBom
{
	PT_BOM_NONE = 0,
	PT_BOM_UTF8,
	PT_BOM_UTF16LE,
	PT_BOM_UTF16BE,
	PT_BOM_UTF32LE,
	PT_BOM_UTF32BE
} PtBom;

extern PtBom pt_detect_bom(const void *data, size_t len, size_t *bom_len);
extern const char *pt_bom_encoding(PtBom bom);
extern PtBom pt_utf16_without_bom(const void *data, size_t len);

/* What a UTF-8 check of the whole file found. */
typedef struct PtUtf8Scan
{
	bool		valid;			/* the whole file is UTF-8 */
	size_t		first_invalid;	/* offset of the first byte that is not */
	bool		has_multibyte;	/* a valid sequence of 2 to 4 bytes occurs */
	size_t		first_multibyte;	/* offset of the first one */
} PtUtf8Scan;

extern void pt_utf8_scan(const void *data, size_t len, PtUtf8Scan *scan);

/* Encodings, as logged: PostgreSQL's names, or one of ICU_ENCODINGS. */
extern const char *pt_icu_encoding(const char *name);
extern const char *pt_guess_single_byte(const void *data, size_t len);
extern const char *pt_encoding_label(const char *name);

/* Outcome of pt_icu_to_utf8. */
typedef enum PtConvStatus
{
	PT_CONV_OK = 0,
	PT_CONV_INVALID,			/* bytes invalid in the source encoding */
	PT_CONV_FAILED				/* ICU could not convert (no converter, no room) */
} PtConvStatus;

extern size_t pt_icu_output_bound(const char *encoding, size_t len);
extern PtConvStatus pt_icu_to_utf8(const char *encoding, const void *src, size_t len,
								   char *dst, size_t dst_size, size_t *dst_len,
								   size_t *bad_offset, size_t *bad_length);

/* Delimiters a file may use; the first three are detected. */
#define PT_DETECT_ROWS 20
extern char pt_detect_delimiter(const char *text, size_t len);
extern const char *pt_delimiter_name(char delimiter);

#endif							/* PTIMPORT_DETECT_H */
