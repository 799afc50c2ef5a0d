/*-------------------------------------------------------------------------
 *
 * input.c
 *	  Turns the uploaded bytes into UTF-8 text the reader can trust.  The
 *	  size is checked before detoasting; documents that are not CSV are
 *	  refused; the encoding is the one given, or detected (detect.c): a
 *	  byte-order mark, UTF-8, or a single-byte encoding; PostgreSQL converts
 *	  its own encodings, ICU converts UTF-16, UTF-32 and MacRoman.  NUL bytes
 *	  and bytes invalid in the encoding are refused, naming the line.  The
 *	  delimiter is given or detected, and the columns argument read.  The
 *	  argument checks also serve ptimport.submit.
 *
 *-------------------------------------------------------------------------
 */
#include "ptimport.h"

#include "access/detoast.h"
#include "catalog/namespace.h"
#include "catalog/pg_type_d.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

/* Source bytes PostgreSQL converts in one call (ending at a line end). */
#define PT_CONVERT_CHUNK (16 * 1024 * 1024)

static void decode_given(PtImport *imp, const char *data, size_t len, PtBom bom,
						 size_t bom_len, const PtReadOptions *opts);
static void decode_detected(PtImport *imp, const char *data, size_t len, PtBom bom,
							size_t bom_len);
static void convert_pg(PtImport *imp, const char *data, size_t len, int encoding,
					   bool detected);
static void convert_icu(PtImport *imp, const char *data, size_t len,
						const char *encoding);
static void check_nul(const char *data, size_t len, bool converted);
static void report_bad_bytes(const char *data, size_t len, size_t at, int encoding);
static const char *show_bytes(const char *data, size_t len, size_t at, size_t n);
static char read_delimiter(text *arg);
static void read_columns(PtReadOptions *opts, ArrayType *arr);

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

/*
 * The PostgreSQL encoding a file is read in, by name; refuses a name it
 * cannot be.  (Names that ICU converts are pt_read_options' business.)
 */
int
pt_source_encoding(const char *encoding)
{
	int			src_encoding = pg_char_to_encoding(encoding);

	if (src_encoding < 0 || src_encoding == PG_SQL_ASCII)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" is not an encoding a file can be read in", encoding),
				 errhint("Use an encoding name such as 'UTF8', 'WIN1252', 'LATIN1', 'MACINTOSH' or 'UTF-16LE', or leave the encoding out to have it detected.")));
	return src_encoding;
}

/*
 * Reads and checks the reading arguments of an import or a submit: the
 * encoding (NULL: detect), the delimiter (NULL: detect) and the columns
 * mapping (NULL: a header row or PT Direct's order).  Raises the argument
 * errors; pass (NullableDatum) {.isnull = true} for an argument the called
 * declaration does not have.
 */
void
pt_read_options(PtReadOptions *opts, NullableDatum encoding, NullableDatum delimiter,
				NullableDatum columns)
{
	memset(opts, 0, sizeof(*opts));
	opts->pg_encoding = -1;

	if (!encoding.isnull)
	{
		char	   *name = text_to_cstring(DatumGetTextPP(encoding.value));
		const char *icu = pt_icu_encoding(name);

		if (icu != NULL)
			opts->encoding = icu;
		else
		{
			opts->pg_encoding = pt_source_encoding(name);
			opts->encoding = pg_encoding_to_char(opts->pg_encoding);
		}
	}
	if (!delimiter.isnull)
		opts->delimiter = read_delimiter(DatumGetTextPP(delimiter.value));
	if (!columns.isnull)
		read_columns(opts, DatumGetArrayTypeP(columns.value));
}

/* The delimiter argument: ',', ';', '|' or a tab (also written 'tab' or '\t'). */
static char
read_delimiter(text *arg)
{
	char	   *s = text_to_cstring(arg);

	if (strcmp(s, ",") == 0 || strcmp(s, ";") == 0 || strcmp(s, "|") == 0 ||
		strcmp(s, "\t") == 0)
		return s[0];
	if (pg_strcasecmp(s, "tab") == 0 || strcmp(s, "\\t") == 0)
		return '\t';
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("\"%s\" is not a delimiter a file can use", s),
			 errhint("Pass ',', ';', '|' or a tab (E'\\t' or 'tab'), or leave the delimiter out to have it detected.")));
	return ',';					/* keep the compiler quiet */
}

/*
 * The columns argument: for each file column the field it holds (a field
 * name such as first_name) or NULL to ignore it.  Each field at most once,
 * every required field present.
 */
static void
read_columns(PtReadOptions *opts, ArrayType *arr)
{
	Datum	   *items;
	bool	   *nulls;
	int			n;
	int			i;
	int			f;
	int			nmissing = 0;
	PtField		missing[PT_NREQUIRED];

	if (ARR_NDIM(arr) > 1 || ARR_ELEMTYPE(arr) != TEXTOID)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("columns must be a one-dimensional text array"),
				 errhint("Pass one field name (or NULL) per column of the file, such as ARRAY['internal_id', 'first_name', NULL, 'last_name', 'birth_year', 'gender'].")));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &items, &nulls, &n);
	if (n > PT_MAX_COLUMNS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("columns has %d entries; at most %d are allowed", n, PT_MAX_COLUMNS),
				 errhint("Only the first %d columns of a file are read.", PT_MAX_COLUMNS)));

	opts->have_columns = true;
	pt_map_init(&opts->columns, n);
	for (i = 0; i < n; i++)
	{
		char	   *name;
		PtField		field;

		if (nulls[i])
			continue;
		name = TextDatumGetCString(items[i]);
		if (!pt_field_by_name(name, &field))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("\"%s\" in columns is not a field name", name),
					 errhint("Name each column internal_id, first_name, last_name, birth_year, gender, email, mobile, diagnosis_code or client_group, or NULL to ignore it.")));
		if (opts->columns.column[field] >= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("columns names %s twice", name),
					 errdetail("Entries %d and %d are both %s.",
							   opts->columns.column[field] + 1, i + 1, name),
					 errhint("Name each field once; pass NULL for a column to ignore.")));
		opts->columns.column[field] = i;
		opts->columns.field[i] = (signed char) field;
	}

	for (f = 0; f < PT_NREQUIRED; f++)
		if (opts->columns.column[f] < 0)
			missing[nmissing++] = (PtField) f;
	if (nmissing > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("columns has no column for %s", pt_field_list(missing, nmissing)),
				 errhint("Every file needs internal_id, first_name, last_name, birth_year and gender.")));
}

/*
 * Sets imp->data and imp->len to the file's text in UTF-8, and imp->read to
 * how it is read: encoding, delimiter and the columns argument's map.  raw
 * may still be toasted: its size is checked first.
 */
void
pt_read_input(PtImport *imp, bytea *raw, const PtReadOptions *opts)
{
	PtReadInfo *info = &imp->read;
	bytea	   *bytes;
	const char *data;
	size_t		len;
	PtFileKind	kind;
	PtBom		bom;
	size_t		bom_len;

	pt_check_size(PointerGetDatum(raw));

	bytes = (bytea *) pg_detoast_datum_packed(raw);
	data = VARDATA_ANY(bytes);
	len = VARSIZE_ANY_EXHDR(bytes);

	memset(info, 0, sizeof(*info));

	kind = pt_sniff_kind(data, len);
	if (kind != PT_KIND_TEXT)
		ereport(ERROR,
				(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
				 errmsg("file is %s, not a CSV file", pt_kind_name(kind)),
				 errdetail("%s", pt_kind_signature(kind)),
				 errhint("%s", pt_kind_hint(kind))));

	bom = pt_detect_bom(data, len, &bom_len);
	if (opts->encoding != NULL)
		decode_given(imp, data, len, bom, bom_len, opts);
	else
		decode_detected(imp, data, len, bom, bom_len);

	info->delimiter_detected = opts->delimiter == 0;
	info->delimiter = opts->delimiter ? opts->delimiter :
		pt_detect_delimiter(imp->data, imp->len);
	info->columns_given = opts->have_columns;
	if (opts->have_columns)
	{
		int			col;

		info->map = opts->columns;
		for (col = 0; col < info->map.ncolumns; col++)
			if (info->map.field[col] == PT_FIELD_NONE)
				info->ignored_columns++;
	}
	else
		pt_map_positional(&info->map);
	info->map.delimiter = info->delimiter;
}

/* Decodes a file whose encoding the caller named. */
static void
decode_given(PtImport *imp, const char *data, size_t len, PtBom bom, size_t bom_len,
			 const PtReadOptions *opts)
{
	const char *encoding = opts->encoding;

	imp->read.encoding_detected = false;
	if (opts->pg_encoding < 0)
	{
		/* UTF-16, UTF-32 or MacRoman, converted by ICU. */
		if (strcmp(encoding, "UTF-16") == 0)
			encoding = bom == PT_BOM_UTF16BE ? "UTF-16BE" :
				bom == PT_BOM_UTF16LE ? "UTF-16LE" :
				pt_utf16_without_bom(data, len) == PT_BOM_UTF16BE ? "UTF-16BE" : "UTF-16LE";
		else if (strcmp(encoding, "UTF-32") == 0)
			encoding = bom == PT_BOM_UTF32BE ? "UTF-32BE" : "UTF-32LE";
		if (bom != PT_BOM_NONE)
		{
			if (strcmp(pt_bom_encoding(bom), encoding) != 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("file is in %s but encoding %s was given",
								pt_encoding_label(pt_bom_encoding(bom)), encoding),
						 errdetail("It starts with a %s byte-order mark.",
								   pt_encoding_label(pt_bom_encoding(bom))),
						 errhint("Leave out the encoding argument to have it detected.")));
			data += bom_len;
			len -= bom_len;
		}
		convert_icu(imp, data, len, encoding);
		return;
	}

	if (bom == PT_BOM_UTF8)
	{
		if (opts->pg_encoding != PG_UTF8)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("file is in UTF-8 but encoding %s was given", encoding),
					 errdetail("It starts with a UTF-8 byte-order mark."),
					 errhint("Leave out the encoding argument, or pass 'UTF8'.")));
		data += 3;
		len -= 3;
	}
	else if (bom != PT_BOM_NONE)
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("file is encoded in %s", pt_bom_encoding(bom)),
				 errdetail("It starts with a %s byte-order mark, and encoding %s was given.",
						   pt_bom_encoding(bom), encoding),
				 errhint("Pass encoding => '%s' or leave the encoding out to have the file converted, or save it as \"CSV UTF-8\" (in Excel: Save As, CSV UTF-8).",
						 pt_bom_encoding(bom))));
	convert_pg(imp, data, len, opts->pg_encoding, false);
}

/*
 * Decodes a file whose encoding is to be detected: a byte-order mark says
 * it; else UTF-8 if it is valid UTF-8; a file that has UTF-8 characters and
 * also bytes that are not is refused; else pt_guess_single_byte names it.
 */
static void
decode_detected(PtImport *imp, const char *data, size_t len, PtBom bom, size_t bom_len)
{
	PtUtf8Scan	scan;
	PtBom		utf16;
	const char *guess;

	imp->read.encoding_detected = true;
	if (bom != PT_BOM_NONE && bom != PT_BOM_UTF8)
	{
		convert_icu(imp, data + bom_len, len - bom_len, pt_bom_encoding(bom));
		return;
	}
	if (bom == PT_BOM_UTF8)
	{
		convert_pg(imp, data + bom_len, len - bom_len, PG_UTF8, true);
		return;
	}

	if (memchr(data, '\0', len) != NULL)
	{
		utf16 = pt_utf16_without_bom(data, len);
		if (utf16 != PT_BOM_NONE)
			ereport(ERROR,
					(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
					 errmsg("file looks like %s without a byte-order mark", pt_bom_encoding(utf16)),
					 errdetail("Every other byte is 0, as in UTF-16 text, but the file does not start with the byte-order mark that says so."),
					 errhint("Pass encoding => '%s', or save the file as \"CSV UTF-8\" (in Excel: Save As, CSV UTF-8).",
							 pt_bom_encoding(utf16))));
		check_nul(data, len, false);
	}

	pt_utf8_scan(data, len, &scan);
	if (scan.valid)
	{
		imp->read.encoding = "UTF8";
		imp->data = data;
		imp->len = len;
		return;
	}
	if (scan.has_multibyte)
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("file is not valid UTF8"),
				 errdetail("Line %ld has the bytes %s, which are not valid UTF-8, while line %ld has UTF-8 characters: the file mixes two encodings.",
						   pt_line_of_offset(data, len, scan.first_invalid),
						   show_bytes(data, len, scan.first_invalid, 4),
						   pt_line_of_offset(data, len, scan.first_multibyte)),
				 errhint("Open the file in the program that made it and save it again as \"CSV UTF-8\"; a file edited with two programs can hold two encodings.")));

	guess = pt_guess_single_byte(data, len);
	if (pt_icu_encoding(guess) != NULL)
		convert_icu(imp, data, len, guess);
	else
		convert_pg(imp, data, len, pg_char_to_encoding(guess), true);
}

/*
 * Checks data against a PostgreSQL encoding and converts it to UTF-8, in
 * chunks that end at a line end (an LF byte is a line end in every
 * encoding PostgreSQL reads).
 */
static void
convert_pg(PtImport *imp, const char *data, size_t len, int encoding, bool detected)
{
	Oid			proc;
	char	   *out;
	size_t		out_size;
	size_t		used = 0;
	size_t		done = 0;
	int			valid;

	check_nul(data, len, false);
	valid = pg_encoding_verifymbstr(encoding, data, (int) len);
	if ((size_t) valid < len)
		report_bad_bytes(data, len, valid, encoding);

	imp->read.encoding = pg_encoding_to_char(encoding);
	if (encoding == PG_UTF8)
	{
		imp->data = data;
		imp->len = len;
		return;
	}

	proc = FindDefaultConversionProc(encoding, PG_UTF8);
	if (!OidIsValid(proc))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("no conversion from %s to UTF8", pg_encoding_to_char(encoding))));
	if (len >= MaxAllocHugeSize / MAX_CONVERSION_GROWTH)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("file is too large to convert")));
	out_size = len * MAX_CONVERSION_GROWTH + 1;
	out = palloc_extended(out_size, MCXT_ALLOC_HUGE);
	out[0] = '\0';

	while (done < len)
	{
		size_t		chunk = len - done;
		int			converted;

		if (chunk > PT_CONVERT_CHUNK)
		{
			const char *lf = memchr(data + done + PT_CONVERT_CHUNK, '\n',
									len - done - PT_CONVERT_CHUNK);

			chunk = lf ? (size_t) (lf - (data + done)) + 1 : len - done;
		}
		converted = pg_do_encoding_conversion_buf(proc, encoding, PG_UTF8,
												  (unsigned char *) data + done, (int) chunk,
												  (unsigned char *) out + used,
												  (int) Min(out_size - used, (size_t) INT_MAX),
												  true);
		used += strlen(out + used);
		if ((size_t) converted < chunk)
		{
			size_t		at = done + converted;
			const char *label = pt_encoding_label(pg_encoding_to_char(encoding));

			ereport(ERROR,
					(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
					 errmsg("file is not valid %s", pg_encoding_to_char(encoding)),
					 errdetail("Line %ld has the bytes %s, which stand for no character in %s.",
							   pt_line_of_offset(data, len, at), show_bytes(data, len, at, 4),
							   label),
					 detected ?
					 errhint("The file was read as %s, as it is not UTF-8; pass the encoding it was saved in as the encoding argument, or save it as \"CSV UTF-8\".", label) :
					 errhint("Pass the encoding the file was saved in as the encoding argument, or save it as \"CSV UTF-8\".")));
		}
		done += chunk;
	}

	/* Give back what the worst case reserved, when that is much. */
	if (out_size - used > 1024 * 1024)
		out = repalloc_huge(out, used + 1);
	imp->data = out;
	imp->len = used;
}

/* Converts data from an encoding ICU knows (UTF-16, UTF-32, MacRoman) to UTF-8. */
static void
convert_icu(PtImport *imp, const char *data, size_t len, const char *encoding)
{
	size_t		out_size = pt_icu_output_bound(encoding, len);
	char	   *out;
	size_t		out_len;
	size_t		bad_offset;
	size_t		bad_length;
	PtConvStatus status;

	if (out_size >= MaxAllocHugeSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("file is too large to convert")));
	out = palloc_extended(out_size, MCXT_ALLOC_HUGE);
	status = pt_icu_to_utf8(encoding, data, len, out, out_size, &out_len,
							&bad_offset, &bad_length);
	if (status == PT_CONV_INVALID)
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("file is not valid %s", encoding),
				 errdetail("Line %ld has the bytes %s, which are not valid %s.",
						   pt_line_of_offset(out, out_len, out_len),
						   show_bytes(data, len, bad_offset, Max(bad_length, 1)),
						   encoding),
				 errhint("Save the file as \"CSV UTF-8\" (in Excel: Save As, CSV UTF-8) and import it again.")));
	if (status != PT_CONV_OK)
		elog(ERROR, "could not convert the file from %s to UTF-8", encoding);

	/* UTF-16 and UTF-32 can hold U+0000: a NUL byte now. */
	check_nul(out, out_len, true);
	if (out_size - out_len > 1024 * 1024)
		out = repalloc_huge(out, out_len + 1);
	imp->read.encoding = encoding;
	imp->data = out;
	imp->len = out_len;
}

/* Refuses text with a NUL byte (or, converted, a U+0000 character), naming its line. */
static void
check_nul(const char *data, size_t len, bool converted)
{
	const char *nul = memchr(data, '\0', len);

	if (nul != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("file contains a NUL byte"),
				 errdetail(converted ? "Line %ld contains the character U+0000, which text cannot hold." :
						   "Line %ld contains a byte with value 0, which text cannot hold.",
						   pt_line_of_offset(data, len, nul - data)),
				 errhint("Check that the file is a CSV text file.")));
}

/* Raises the error for the first byte sequence invalid in the encoding. */
static void
report_bad_bytes(const char *data, size_t len, size_t at, int encoding)
{
	ereport(ERROR,
			(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
			 errmsg("file is not valid %s", pg_encoding_to_char(encoding)),
			 errdetail("Line %ld has the bytes %s, which are not valid %s.",
					   pt_line_of_offset(data, len, at), show_bytes(data, len, at, 4),
					   pg_encoding_to_char(encoding)),
			 encoding == PG_UTF8 ?
			 errhint("A file saved by Excel as plain \"CSV\" is usually in Windows-1252: pass encoding => 'WIN1252', or save it as \"CSV UTF-8\".") :
			 errhint("Pass the encoding the file was saved in as the encoding argument.")));
}

/* Up to n bytes of data from at, as "0x.. 0x..". */
static const char *
show_bytes(const char *data, size_t len, size_t at, size_t n)
{
	StringInfoData buf;
	size_t		i;

	initStringInfo(&buf);
	for (i = 0; i < n && at + i < len; i++)
		appendStringInfo(&buf, "%s0x%02x", i ? " " : "", (unsigned char) data[at + i]);
	return buf.data;
}

/*
 * Completes imp->read once the rows are read: the summary for the NOTICE
 * ("read as Windows-1252, semicolon-separated, header mapped: 7 columns, 2
 * ignored").
 */
void
pt_read_summary(PtImport *imp)
{
	PtReadInfo *info = &imp->read;
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "read as %s%s, %s-separated%s, ",
					 pt_encoding_label(info->encoding),
					 info->encoding_detected ? "" : " (given)",
					 pt_delimiter_name(info->delimiter),
					 info->delimiter_detected ? "" : " (given)");
	switch (info->header)
	{
		case PT_HEADER_NONE:
			if (info->columns_given)
				appendStringInfo(&buf, "columns given: %d columns, %d ignored",
								 info->map.ncolumns, info->ignored_columns);
			else
				appendStringInfoString(&buf, "no header row");
			break;
		case PT_HEADER_MAPPED:
			appendStringInfo(&buf, "header mapped: %d columns, %d ignored",
							 info->named_columns, info->ignored_columns);
			break;
		case PT_HEADER_SKIPPED:
			appendStringInfo(&buf, "columns given: %d columns, %d ignored; header row skipped",
							 info->map.ncolumns, info->ignored_columns);
			break;
		case PT_HEADER_UNRECOGNISED:
			appendStringInfoString(&buf, "header row not recognised");
			break;
	}
	info->summary = buf.data;
}

/* The names of n fields as a list: "gender", "first_name and gender", "a, b and c". */
char *
pt_field_list(const PtField *fields, int n)
{
	StringInfoData list;
	int			i;

	initStringInfo(&list);
	for (i = 0; i < n; i++)
		appendStringInfo(&list, "%s%s", i == 0 ? "" : i == n - 1 ? " and " : ", ",
						 pt_field_name(fields[i]));
	return list.data;
}
