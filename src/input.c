/*-------------------------------------------------------------------------
 *
 * input.c
 *	  Turns the uploaded bytes into UTF-8 text the reader can trust: checks
 *	  the size before detoasting, refuses UTF-16, NUL bytes and bytes that
 *	  are invalid in the source encoding (naming the line), drops a BOM.
 *	  The null, encoding-name and size checks also serve ptimport.submit.
 *
 *-------------------------------------------------------------------------
 */
#include "ptimport.h"

#include "access/detoast.h"
#include "mb/pg_wchar.h"

static void report_bad_bytes(const char *data, size_t len, size_t at, int encoding);

/* Refuses a missing file: the data argument of an import or a submit. */
void
pt_require_data(NullableDatum data)
{
	if (data.isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("data must not be null"),
				 errhint("Pass the file's contents as bytea.")));
}

/*
 * Refuses a file larger than ptimport.max_bytes.  raw may still be toasted:
 * only its header is read, so an oversized file is never fetched.
 */
void
pt_check_size(Datum raw)
{
	Size		raw_size = toast_raw_datum_size(raw) - VARHDRSZ;
	Size		max_bytes = (Size) pt_max_bytes_kb * 1024;

	if (raw_size > max_bytes)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("file is too large"),
				 errdetail("The file has %zu bytes; ptimport.max_bytes allows %zu.",
						   (size_t) raw_size, (size_t) max_bytes),
				 errhint("Split the file into smaller files, or ask a superuser to raise ptimport.max_bytes.")));
}

/* The encoding a file is read in, by name; refuses a name it cannot be. */
int
pt_source_encoding(const char *encoding)
{
	int			src_encoding = pg_char_to_encoding(encoding);

	if (src_encoding < 0 || src_encoding == PG_SQL_ASCII)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" is not an encoding a file can be read in", encoding),
				 errhint("Use an encoding name such as 'UTF8', 'WIN1252' or 'LATIN1'.")));
	return src_encoding;
}

/*
 * Sets imp->data and imp->len to the file's text in UTF-8.  raw may still be
 * toasted: its size is checked first.
 */
void
pt_decode_input(PtImport *imp, bytea *raw, const char *encoding)
{
	int			src_encoding = pt_source_encoding(encoding ? encoding : "UTF8");
	bytea	   *bytes;
	const char *data;
	size_t		len;
	const char *nul;
	int			valid;

	pt_check_size(PointerGetDatum(raw));

	bytes = (bytea *) pg_detoast_datum_packed(raw);
	data = VARDATA_ANY(bytes);
	len = VARSIZE_ANY_EXHDR(bytes);

	if (len >= 2 && (((unsigned char) data[0] == 0xFF && (unsigned char) data[1] == 0xFE) ||
					 ((unsigned char) data[0] == 0xFE && (unsigned char) data[1] == 0xFF)))
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("file is encoded in UTF-16"),
				 errdetail("It starts with a UTF-16 byte-order mark."),
				 errhint("Save the file as \"CSV UTF-8\" (in Excel: Save As, CSV UTF-8) and import it again.")));

	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
	{
		if (src_encoding != PG_UTF8)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("file is in UTF-8 but encoding %s was given",
							pg_encoding_to_char(src_encoding)),
					 errdetail("It starts with a UTF-8 byte-order mark."),
					 errhint("Leave out the encoding argument, or pass 'UTF8'.")));
		data += 3;
		len -= 3;
	}

	nul = memchr(data, '\0', len);
	if (nul != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("file contains a NUL byte"),
				 errdetail("Line %ld contains a byte with value 0, which text cannot hold.",
						   pt_line_of_offset(data, len, nul - data)),
				 errhint("Check that the file is a CSV text file; a UTF-16 file without a byte-order mark looks like this.")));

	valid = pg_encoding_verifymbstr(src_encoding, data, (int) len);
	if ((size_t) valid < len)
		report_bad_bytes(data, len, valid, src_encoding);

	if (src_encoding != PG_UTF8)
	{
		data = (const char *) pg_do_encoding_conversion((unsigned char *) data, (int) len,
														src_encoding, PG_UTF8);
		len = strlen(data);
	}
	imp->data = data;
	imp->len = len;
	imp->read.encoding = pg_encoding_to_char(src_encoding);
	imp->read.delimiter = ',';
}

/* Raises the error for the first byte sequence invalid in the encoding. */
static void
report_bad_bytes(const char *data, size_t len, size_t at, int encoding)
{
	char		shown[4 * 5 + 1];
	int			i;
	int			n = 0;

	for (i = 0; i < 4 && at + i < len; i++)
		n += snprintf(shown + n, sizeof(shown) - n, "%s0x%02x", i ? " " : "",
					  (unsigned char) data[at + i]);

	ereport(ERROR,
			(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
			 errmsg("file is not valid %s", pg_encoding_to_char(encoding)),
			 errdetail("Line %ld has the bytes %s, which are not valid %s.",
					   pt_line_of_offset(data, len, at), shown,
					   pg_encoding_to_char(encoding)),
			 encoding == PG_UTF8 ?
			 errhint("A file saved by Excel as plain \"CSV\" is usually in Windows-1252: pass encoding => 'WIN1252', or save it as \"CSV UTF-8\".") :
			 errhint("Pass the encoding the file was saved in as the encoding argument.")));
}
