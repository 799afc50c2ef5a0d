/*-------------------------------------------------------------------------
 *
 * fuzz_rows.c
 *	  libFuzzer target for the pure-C half of ptimport: sniffs the kind of
 *	  arbitrary bytes, detects and converts their encoding and delimiter as
 *	  the import does, reads them with the CSV reader in small steps, maps a
 *	  header row, validates every row, and abort()s when a detection, a
 *	  conversion, a row, an issue or the reader's progress breaks an
 *	  invariant.
 *
 *-------------------------------------------------------------------------
 */
#include "csvreader.h"
#include "detect.h"
#include "header.h"
#include "textnorm.h"
#include "validate.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf8.h>

/* The year the validator is told it is; fixed so that runs repeat. */
#define FUZZ_THIS_YEAR	2024

/*
 * run.sh compiles a copy of csvreader.c whose PT_PIECE_MAX is this variable,
 * so that lines longer than a piece are exercised with small inputs (built
 * against the real csvreader.c, the small-piece pass merely repeats).
 */
size_t		fuzz_piece_max = 65536;

/* internal_ids remembered for the duplicate check; later ones are not. */
#define FUZZ_MAX_IDS	128

/* What a pass over the input records, and what it checks against. */
typedef struct FuzzPass
{
	const unsigned char *data;
	size_t		len;
	bool		validate;		/* run the validator on each row */
	char		delimiter;
	int			columns_mode;	/* 0: header or PT Direct's order, 1: a columns map */
	PtColumnMap map;
	bool		header_done;
	long		rows;
	uint64_t	digest;			/* hash of every row handed over */
	size_t		prev_end;		/* end of the previous row's raw bytes */
	long		prev_end_line;
	size_t		line_pos;		/* line_at is the line of data[line_pos] */
	long		line_at;
	bool		clean_utf8;		/* input is valid UTF-8 without NUL */
	int			nids;
	char	   *ids[FUZZ_MAX_IDS];
	long		id_lines[FUZZ_MAX_IDS];
} FuzzPass;

static long alloc_count;
static long alloc_fail_at = -1;

static void *fuzz_realloc(void *ptr, size_t size);
static void fuzz_free(void *ptr);
static void check(bool ok, const char *what);
static uint64_t hash_bytes(uint64_t h, const void *p, size_t n);
static long line_of(FuzzPass *pass, size_t offset);
static bool valid_utf8(const unsigned char *s, size_t len);
static void on_row(const PtCsvRow *row, void *arg);
static void check_row(FuzzPass *pass, const PtCsvRow *row);
static void check_result(FuzzPass *pass, const PtCsvRow *row,
						 const PtRowResult *result, bool duplicate);
static bool check_issues(FuzzPass *pass, const PtRowResult *result);
static void check_kept_values(const PtRowResult *result);
static void check_map(const PtColumnMap *map);
static bool take_header(FuzzPass *pass, const PtCsvRow *row);
static unsigned char *decode_input(const uint8_t *input, size_t size, size_t *len);
static void check_duplicate(FuzzPass *pass, const PtCsvRow *row,
							PtRowResult *result);
static PtCsvStatus run_pass(FuzzPass *pass, size_t budget);
static void pass_done(FuzzPass *pass);

/*
 * realloc hook that counts calls; from call number alloc_fail_at on (when
 * that is set) every call fails, since libcsv retries a failed growth.
 */
static void *
fuzz_realloc(void *ptr, size_t size)
{
	if (alloc_fail_at >= 0 && alloc_count >= alloc_fail_at)
		return NULL;
	alloc_count++;
	return realloc(ptr, size);
}

/* free hook paired with fuzz_realloc. */
static void
fuzz_free(void *ptr)
{
	free(ptr);
}

/* Stops the run, naming the invariant that broke. */
static void
check(bool ok, const char *what)
{
	if (!ok)
	{
		fprintf(stderr, "fuzz_rows: invariant violated: %s\n", what);
		abort();
	}
}

/* FNV-1a over n bytes, continuing from h. */
static uint64_t
hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t		i;

	for (i = 0; i < n; i++)
	{
		h ^= s[i];
		h *= UINT64_C(1099511628211);
	}
	return h;
}

/*
 * Physical line of data[offset], counted like pt_line_of_offset but
 * incrementally, since the rows come in order.
 */
static long
line_of(FuzzPass *pass, size_t offset)
{
	const unsigned char *s = pass->data;

	check(offset >= pass->line_pos, "rows come in input order");
	while (pass->line_pos < offset && pass->line_pos < pass->len)
	{
		size_t		i = pass->line_pos++;

		if (s[i] == '\n' ||
			(s[i] == '\r' && !(i + 1 < pass->len && s[i + 1] == '\n')))
			pass->line_at++;
	}
	return pass->line_at;
}

/* Strict UTF-8 check: no overlongs, surrogates or code points past U+10FFFF. */
static bool
valid_utf8(const unsigned char *s, size_t len)
{
	size_t		i = 0;

	while (i < len)
	{
		unsigned char c = s[i];
		size_t		n;
		size_t		k;

		if (c < 0x80)
		{
			i++;
			continue;
		}
		else if (c >= 0xC2 && c <= 0xDF)
			n = 1;
		else if (c >= 0xE0 && c <= 0xEF)
			n = 2;
		else if (c >= 0xF0 && c <= 0xF4)
			n = 3;
		else
			return false;
		if (n >= len - i)
			return false;
		for (k = 1; k <= n; k++)
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
		if (c == 0xE0 && s[i + 1] < 0xA0)
			return false;
		if (c == 0xED && s[i + 1] > 0x9F)
			return false;
		if (c == 0xF0 && s[i + 1] < 0x90)
			return false;
		if (c == 0xF4 && s[i + 1] > 0x8F)
			return false;
		i += n + 1;
	}
	return true;
}

/* Reader callback: checks the row, hashes it and, if asked, validates it. */
static void
on_row(const PtCsvRow *row, void *arg)
{
	FuzzPass   *pass = arg;
	PtRowResult result;
	bool		first;
	int			kept = row->nfields < PT_MAX_COLUMNS ? row->nfields : PT_MAX_COLUMNS;
	int			f;

	check_row(pass, row);
	pass->rows++;

	pass->digest = hash_bytes(pass->digest, &row->line_no, sizeof(row->line_no));
	pass->digest = hash_bytes(pass->digest, &row->end_line, sizeof(row->end_line));
	pass->digest = hash_bytes(pass->digest, &row->raw_offset, sizeof(row->raw_offset));
	pass->digest = hash_bytes(pass->digest, &row->raw_length, sizeof(row->raw_length));
	pass->digest = hash_bytes(pass->digest, &row->nfields, sizeof(row->nfields));
	pass->digest = hash_bytes(pass->digest, &row->nvalues, sizeof(row->nvalues));
	pass->digest = hash_bytes(pass->digest, &row->problem, sizeof(row->problem));
	pass->digest = hash_bytes(pass->digest, &row->problem_line, sizeof(row->problem_line));
	for (f = 0; f < kept; f++)
	{
		pass->digest = hash_bytes(pass->digest, &row->length[f], sizeof(row->length[f]));
		pass->digest = hash_bytes(pass->digest, row->value[f], row->length[f]);
	}

	if (!pass->validate)
		return;
	first = !pass->header_done;
	pass->header_done = true;
	if (first && take_header(pass, row))
		return;
	pt_validate_row(row, &pass->map, FUZZ_THIS_YEAR, first, &result);
	check_result(pass, row, &result, false);
	check_kept_values(&result);
	check_duplicate(pass, row, &result);
}

/*
 * A first row that maps the columns by its names, as collect.c takes it:
 * the map must be consistent, and its ignored_columns issue well formed.
 */
static bool
take_header(FuzzPass *pass, const PtCsvRow *row)
{
	PtHeaderMatch match;
	PtRowResult result;
	int			f;

	if (row->problem != PT_CSV_OK)
		return false;
	pt_header_match(row, &match);
	check_map(&match.map);
	check(match.is_header == (match.nnamed >= PT_HEADER_MIN_FIELDS), "is_header counts named fields");
	check(match.nmissing >= 0 && match.nmissing <= PT_NREQUIRED, "missing count in range");
	for (f = 0; f < match.nmissing; f++)
		check(match.missing[f] < PT_NREQUIRED && match.map.column[match.missing[f]] < 0,
			  "a missing field is required and unmapped");
	if (match.ambiguous != PT_FIELD_NONE)
		check(match.ambiguous_columns[0] != match.ambiguous_columns[1] &&
			  match.map.column[match.ambiguous] == match.ambiguous_columns[0],
			  "an ambiguous field names two columns");
	if (pass->columns_mode || !match.is_header || match.ambiguous != PT_FIELD_NONE ||
		match.nmissing > 0)
		return false;
	pass->map = match.map;
	pass->map.delimiter = pass->delimiter;
	pt_result_init(&result);
	pt_ignored_columns_issue(row, &pass->map, &result);
	check(result.nissues == (match.nignored > 0 ? 1 : 0), "one ignored_columns issue when columns are ignored");
	check(!check_issues(pass, &result) && !result.failed, "the header's issue is a warning");
	return true;
}

/* A column map says the same both ways round. */
static void
check_map(const PtColumnMap *map)
{
	int			f;
	int			col;

	check(map->ncolumns >= 0 && map->ncolumns <= PT_MAX_COLUMNS, "ncolumns in range");
	for (f = 0; f < PT_NFIELDS; f++)
		if (map->column[f] >= 0)
			check(map->column[f] < map->ncolumns && map->field[map->column[f]] == f,
				  "a field's column names the field");
	for (col = 0; col < PT_MAX_COLUMNS; col++)
		if (map->field[col] != PT_FIELD_NONE)
			check(map->field[col] >= 0 && map->field[col] < PT_NFIELDS &&
				  map->column[(int) map->field[col]] == col, "a column's field names the column");
}

/*
 * What is stored of a kept value: NUL-terminated, no space at either end,
 * no control or invisible character, NFC, and cleaning it again changes
 * nothing.  A kept mobile number is 00 and digits.
 */
static void
check_kept_values(const PtRowResult *result)
{
	UErrorCode	err = U_ZERO_ERROR;
	const UNormalizer2 *nfc = unorm2_getNFCInstance(&err);
	int			f;

	check(U_SUCCESS(err), "NFC instance");
	for (f = 0; f < PT_NFIELDS; f++)
	{
		const char *s = result->value[f];
		size_t		len = result->length[f];
		UChar		utf16[PT_NORM_MAX_BYTES];
		int32_t		n;
		int32_t		i = 0;
		UChar32		c;
		char		buf[PT_NORM_MAX_BYTES];
		PtText		again;

		if (!result->keep[f])
			continue;
		check(len > 0 && s[len] == '\0', "a kept value is NUL-terminated");
		check(valid_utf8((const unsigned char *) s, len), "a kept value is UTF-8");
		check(pt_text_clean(s, len, buf, sizeof(buf), &again) == PT_TEXT_OK &&
			  again.len == len && memcmp(again.s, s, len) == 0,
			  "cleaning a kept value again changes nothing");
		while (i < (int32_t) len)
		{
			U8_NEXT((const uint8_t *) s, i, (int32_t) len, c);
			check(c >= 0x20 && c != 0x7F && u_charType(c) != U_CONTROL_CHAR &&
				  u_charType(c) != U_FORMAT_CHAR && c != 0x2028 && c != 0x2029,
				  "a kept value has no control or invisible character");
		}
		err = U_ZERO_ERROR;
		u_strFromUTF8(utf16, PT_NORM_MAX_BYTES, &n, s, (int32_t) len, &err);
		if (U_SUCCESS(err))
			check(unorm2_isNormalized(nfc, utf16, n, &err) || U_FAILURE(err),
				  "a kept value is NFC");
	}
	if (result->keep[PT_FIELD_MOBILE])
		check(pt_valid_mobile(result->value[PT_FIELD_MOBILE], result->length[PT_FIELD_MOBILE]),
			  "a kept mobile number is 00 and digits");
	if (result->keep[PT_FIELD_INTERNAL_ID])
		check(!pt_looks_scientific(result->value[PT_FIELD_INTERNAL_ID],
								   result->length[PT_FIELD_INTERNAL_ID]),
			  "an internal_id in scientific notation is never kept");
}

/* The reader's promises about one row. */
static void
check_row(FuzzPass *pass, const PtCsvRow *row)
{
	const unsigned char *data = pass->data;
	size_t		raw_end;
	int			f;

	check(row->line_no >= 1, "line_no >= 1");
	check(row->line_no <= row->end_line, "line_no <= end_line");
	check(row->line_no > pass->prev_end_line, "a row starts after the previous one ends");
	check(row->raw_offset <= pass->len, "raw_offset inside the input");
	check(row->raw_length <= pass->len - row->raw_offset, "raw bytes inside the input");
	check(row->raw_offset >= pass->prev_end, "rows do not overlap");
	check(row->raw_offset == 0 || data[row->raw_offset - 1] == '\n' ||
		  data[row->raw_offset - 1] == '\r', "a row starts at a line start");
	raw_end = row->raw_offset + row->raw_length;
	check(line_of(pass, row->raw_offset) == row->line_no, "line_no is the line of raw_offset");
	check(line_of(pass, raw_end) == row->end_line, "end_line is the line of the raw end");
	if (pass->rows < 4)
		check(pt_line_of_offset(data, pass->len, row->raw_offset) == row->line_no,
			  "pt_line_of_offset agrees with line_no");
	if (row->problem != PT_CSV_UNCLOSED_QUOTE)
		check(raw_end == pass->len || data[raw_end] == '\n' || data[raw_end] == '\r',
			  "raw bytes end at a line end");
	check(row->nfields >= 0, "nfields >= 0");
	check(row->problem >= PT_CSV_OK && row->problem <= PT_CSV_UNCLOSED_QUOTE,
		  "problem is a known one");
	if (row->problem == PT_CSV_OK)
		check(row->nfields >= 1, "a good row has a field");
	else
		check(row->problem_line >= row->line_no && row->problem_line <= row->end_line,
			  "problem_line is inside the row");

	check(row->nvalues >= 0 && row->nvalues <= row->nfields, "nvalues <= nfields");
	if (row->problem == PT_CSV_OK)
		check(row->nvalues >= 1, "a row handed over has a value");
	for (f = 0; f < row->nfields && f < PT_MAX_COLUMNS; f++)
	{
		const char *v = row->value[f];
		size_t		len = row->length[f];
		const unsigned char *u = (const unsigned char *) v;

		check(v != NULL, "value is set");
		if (f >= row->nvalues)
			check(len == 0, "values after the last non-empty one are empty");
		if (f == row->nvalues - 1)
			check(len > 0, "the last non-empty value is not empty");
		check(v[len] == '\0', "value is NUL-terminated");
		if (memchr(v, '\0', len) == NULL)
			check(strlen(v) == len, "length is strlen for a value without NUL");
		check(len == 0 ||
			  (u[0] != ' ' && u[0] != '\t' && u[len - 1] != ' ' && u[len - 1] != '\t'),
			  "value has no space or tab at either end");
		check(len < 2 ||
			  !((u[0] == 0xC2 && u[1] == 0xA0) || (u[len - 2] == 0xC2 && u[len - 1] == 0xA0)),
			  "value has no no-break space at either end");
		if (pass->clean_utf8)
			check(valid_utf8((const unsigned char *) v, len), "value of UTF-8 input is UTF-8");
	}

	pass->prev_end = raw_end;
	pass->prev_end_line = row->end_line;
}

/* The promises of every issue: known codes, well-formed messages; true if one is an error. */
static bool
check_issues(FuzzPass *pass, const PtRowResult *result)
{
	bool		any_error = false;
	int			i;

	check(result->nissues >= 0 && result->nissues <= PT_MAX_ISSUES, "issue count in range");
	for (i = 0; i < result->nissues; i++)
	{
		const PtIssue *issue = &result->issues[i];
		const char *end = memchr(issue->message, '\0', PT_MESSAGE_MAX);
		const char *p;

		check(issue->severity == PT_ERROR || issue->severity == PT_WARNING,
			  "severity is known");
		check(issue->field >= PT_FIELD_NONE && issue->field <= PT_FIELD_CLIENT_GROUP,
			  "field is known");
		check(issue->code >= PT_MALFORMED_CSV && issue->code <= PT_LAST_CODE,
			  "code is known");
		check((pt_field_name(issue->field) == NULL) == (issue->field == PT_FIELD_NONE),
			  "field name exists");
		check(pt_code_name(issue->code) != NULL && pt_code_name(issue->code)[0] != '\0',
			  "code name exists");
		check(pt_severity_name(issue->severity) != NULL, "severity name exists");
		check(end != NULL, "message is NUL-terminated");
		check(issue->message[0] != '\0', "message is not empty");
		check(end - issue->message < PT_MESSAGE_MAX - 1, "message is not cut short");
		for (p = issue->message; p < end; p++)
			check((unsigned char) *p >= 0x20 && *p != 0x7F, "message has no control character");
		if (pass->clean_utf8)
			check(valid_utf8((const unsigned char *) issue->message,
							 end - issue->message), "message of UTF-8 input is UTF-8");
		if (issue->severity == PT_ERROR)
			any_error = true;
	}
	return any_error;
}

/* The validator's promises about one row's result. */
static void
check_result(FuzzPass *pass, const PtCsvRow *row, const PtRowResult *result,
			 bool duplicate)
{
	bool		any_error = check_issues(pass, result);
	int			f;

	check(result->failed == any_error, "failed says whether an issue is an error");
	if (row->problem != PT_CSV_OK)
		check(result->failed && result->nissues == (duplicate ? 2 : 1),
			  "a malformed row has one error");
	for (f = 0; f < PT_NFIELDS; f++)
		if (result->keep[f])
			check(row->problem == PT_CSV_OK && result->length[f] > 0, "a kept value is there");
	if (result->keep[PT_FIELD_BIRTH_YEAR])
		check(result->birth_year >= FUZZ_THIS_YEAR - 100 &&
			  result->birth_year <= FUZZ_THIS_YEAR, "a kept year is in range");
	if (result->keep[PT_FIELD_GENDER])
		check(result->gender == 'm' || result->gender == 'f', "a kept gender is m or f");
	if (!result->failed)
		for (f = 0; f < PT_NREQUIRED; f++)
			check(result->keep[f], "a row that did not fail has every required value");
}

/* Flags a repeated internal_id the way the import does. */
static void
check_duplicate(FuzzPass *pass, const PtCsvRow *row, PtRowResult *result)
{
	const char *id = result->value[PT_FIELD_INTERNAL_ID];
	int			before = result->nissues;
	int			i;

	if (!result->keep[PT_FIELD_INTERNAL_ID])
		return;
	check(memchr(id, '\0', result->length[PT_FIELD_INTERNAL_ID]) == NULL,
		  "a kept internal_id has no NUL");
	for (i = 0; i < pass->nids; i++)
	{
		if (strcmp(pass->ids[i], id) == 0)
		{
			pt_add_duplicate(result, pass->id_lines[i]);
			check(result->nissues == (before < PT_MAX_ISSUES ? before + 1 : before),
				  "a duplicate adds one issue");
			check(result->failed, "a duplicate fails the row");
			check_result(pass, row, result, true);
			return;
		}
	}
	if (pass->nids < FUZZ_MAX_IDS)
	{
		pass->ids[pass->nids] = strdup(id);
		check(pass->ids[pass->nids] != NULL, "strdup");
		pass->id_lines[pass->nids++] = row->line_no;
	}
}

/* Reads the whole input in steps of budget bytes. */
static PtCsvStatus
run_pass(FuzzPass *pass, size_t budget)
{
	PtCsvReader reader;
	PtCsvStatus status;
	size_t		steps = 0;

	pass->digest = UINT64_C(14695981039346656037);
	pass->line_at = 1;
	pass->clean_utf8 = memchr(pass->data, '\0', pass->len) == NULL &&
		valid_utf8(pass->data, pass->len);
	pt_csv_begin(&reader, pass->data, pass->len, pass->delimiter, fuzz_realloc, fuzz_free,
				 on_row, pass);
	do
	{
		size_t		pos = reader.pos;

		status = pt_csv_step(&reader, budget);
		check(status == PT_CSV_MORE || status == PT_CSV_DONE || status == PT_CSV_NOMEM,
			  "step status is known");
		check(reader.pos >= pos && reader.pos <= pass->len, "the reader never goes back");
		if (status == PT_CSV_MORE)
			check(reader.pos > pos, "a step makes progress");
		check(++steps <= pass->len + 2, "the reader ends");
	} while (status == PT_CSV_MORE);
	pt_csv_end(&reader);
	if (status == PT_CSV_DONE)
		check(pt_line_of_offset(pass->data, pass->len, pass->len) ==
			  line_of(pass, pass->len), "pt_line_of_offset counts every line");
	return status;
}

/* Frees what a pass remembered. */
static void
pass_done(FuzzPass *pass)
{
	int			i;

	for (i = 0; i < pass->nids; i++)
		free(pass->ids[i]);
	pass->nids = 0;
}

/*
 * Detects what the input is as input.c does (kind, byte-order mark, UTF-16
 * without one, UTF-8, the single-byte guess) and checks each answer; every
 * ICU conversion must give UTF-8 within its bound.  Returns the text the
 * import would read (malloc'd; *len its length).
 */
static unsigned char *
decode_input(const uint8_t *input, size_t size, size_t *len)
{
	static const char *const icu_encodings[] = {
		"UTF-16LE", "UTF-16BE", "UTF-32LE", "UTF-32BE", "MACINTOSH"
	};
	PtFileKind	kind = pt_sniff_kind(input, size);
	size_t		bom_len;
	PtBom		bom = pt_detect_bom(input, size, &bom_len);
	PtBom		utf16 = pt_utf16_without_bom(input, size);
	PtUtf8Scan	scan;
	const char *guess;
	const char *want = NULL;
	unsigned char *text = NULL;
	size_t		i;

	check(kind >= PT_KIND_TEXT && kind <= PT_KIND_LAST, "kind is known");
	check(pt_kind_name(kind)[0] != '\0', "kind has a name");
	if (kind != PT_KIND_TEXT)
		check(size >= 4 && pt_kind_signature(kind)[0] != '\0' && pt_kind_hint(kind)[0] != '\0',
			  "a document has a signature and a hint");
	check((bom == PT_BOM_NONE) == (bom_len == 0) && bom_len <= size, "BOM length fits");
	check(bom == PT_BOM_NONE || pt_bom_encoding(bom) != NULL, "a BOM names its encoding");
	check(utf16 == PT_BOM_NONE || utf16 == PT_BOM_UTF16LE || utf16 == PT_BOM_UTF16BE,
		  "UTF-16 without BOM is LE, BE or nothing");

	pt_utf8_scan(input, size, &scan);
	check(scan.valid == valid_utf8(input, size), "the UTF-8 scan agrees with a strict check");
	if (!scan.valid)
		check(scan.first_invalid < size && valid_utf8(input, scan.first_invalid),
			  "the first invalid byte ends a valid prefix");
	if (scan.has_multibyte)
		check(scan.first_multibyte < size && input[scan.first_multibyte] >= 0xC2,
			  "the first multi-byte sequence starts with a lead byte");

	guess = pt_guess_single_byte(input, size);
	check(guess != NULL && guess[0] != '\0', "the single-byte guess names an encoding");
	check(strcmp(guess, pt_guess_single_byte(input, size)) == 0, "the guess is repeatable");
	check(pt_encoding_label(guess) != NULL, "the guess has a label");

	if (bom >= PT_BOM_UTF16LE)
		want = pt_bom_encoding(bom);
	else if (bom == PT_BOM_NONE && !scan.valid && pt_icu_encoding(guess) != NULL)
		want = guess;

	for (i = 0; i < sizeof(icu_encodings) / sizeof(icu_encodings[0]); i++)
	{
		const char *enc = icu_encodings[i];
		bool		wanted = want != NULL && strcmp(want, enc) == 0;
		size_t		skip = wanted && bom != PT_BOM_NONE ? bom_len : 0;
		size_t		bound = pt_icu_output_bound(enc, size - skip);
		char	   *out = malloc(bound);
		size_t		out_len;
		size_t		bad_offset;
		size_t		bad_length;
		PtConvStatus status;

		check(out != NULL, "malloc");
		check(pt_icu_encoding(enc) != NULL, "ICU encodings are known by name");
		status = pt_icu_to_utf8(enc, input + skip, size - skip, out, bound,
								&out_len, &bad_offset, &bad_length);
		check(status == PT_CONV_OK || status == PT_CONV_INVALID, "conversion never lacks room");
		check(out_len <= bound, "output within its bound");
		check(valid_utf8((unsigned char *) out, out_len), "converted text is UTF-8");
		if (status == PT_CONV_INVALID)
			check(bad_offset + bad_length <= size - skip, "invalid bytes are inside the input");
		if (strcmp(enc, "MACINTOSH") == 0)
			check(status == PT_CONV_OK, "every byte is a MacRoman character");
		if (wanted && status == PT_CONV_OK)
		{
			text = (unsigned char *) out;
			*len = out_len;
		}
		else
			free(out);
	}

	if (text == NULL)
	{
		size_t		skip = bom == PT_BOM_UTF8 ? 3 : 0;

		text = malloc(size - skip > 0 ? size - skip : 1);
		check(text != NULL, "malloc");
		memcpy(text, input + skip, size - skip);
		*len = size - skip;
	}
	return text;
}

/* Sets a pass up over data; columns_mode maps the columns as seed says. */
static void
pass_init(FuzzPass *pass, const unsigned char *data, size_t len, char delimiter,
		  int columns_mode, uint64_t seed)
{
	memset(pass, 0, sizeof(*pass));
	pass->data = data;
	pass->len = len;
	pass->delimiter = delimiter;
	pass->columns_mode = columns_mode;
	if (columns_mode)
	{
		int			ncolumns = 1 + (int) (seed % 12);
		int			f;

		pt_map_init(&pass->map, ncolumns);
		for (f = 0; f < PT_NFIELDS; f++)
		{
			int			col = (int) ((seed >> (4 + 5 * f)) % (uint64_t) ncolumns);

			if (pass->map.field[col] == PT_FIELD_NONE)
			{
				pass->map.field[col] = (signed char) f;
				pass->map.column[f] = col;
			}
		}
	}
	else
		pt_map_positional(&pass->map);
	pass->map.delimiter = delimiter;
	check_map(&pass->map);
}

/*
 * Decodes the input as the import would, detects its delimiter (or takes
 * a pipe), then reads it four times: in small steps (the budget comes from
 * the first byte) with the header mapping and the validator; in one step;
 * in pieces of a few bytes (both must give the same rows); and with
 * allocations failing from some point on (which must be reported, and leak
 * nothing).
 */
int
LLVMFuzzerTestOneInput(const uint8_t *input, size_t size)
{
	size_t		len;
	unsigned char *data = decode_input(input, size, &len);
	FuzzPass	pass;
	size_t		budget = size > 0 ? 1 + input[0] % 64 : 1;
	char		delimiter = pt_detect_delimiter((const char *) data, len);
	int			columns_mode = size > 2 && input[2] % 5 == 0;
	uint64_t	seed = hash_bytes(UINT64_C(14695981039346656037), input, size);
	uint64_t	digest;
	long		rows;
	long		allocs;
	PtCsvStatus status;

	check(delimiter == ',' || delimiter == ';' || delimiter == '\t', "a detected delimiter is , ; or tab");
	check(delimiter == pt_detect_delimiter((const char *) data, len), "delimiter detection repeats");
	check(strlen(pt_delimiter_name(delimiter)) > 0, "the delimiter has a name");
	if (size > 1 && input[1] % 7 == 0)
		delimiter = '|';

	pass_init(&pass, data, len, delimiter, columns_mode, seed);
	pass.validate = true;
	alloc_count = 0;
	alloc_fail_at = -1;
	status = run_pass(&pass, budget);
	check(status == PT_CSV_DONE, "reading with working allocations succeeds");
	pass_done(&pass);
	digest = pass.digest;
	rows = pass.rows;
	allocs = alloc_count;

	pass_init(&pass, data, len, delimiter, columns_mode, seed);
	status = run_pass(&pass, SIZE_MAX);
	check(status == PT_CSV_DONE && pass.rows == rows && pass.digest == digest,
		  "the step budget does not change the rows");

	pass_init(&pass, data, len, delimiter, columns_mode, seed);
	fuzz_piece_max = 1 + digest % 16;
	status = run_pass(&pass, budget);
	fuzz_piece_max = 65536;
	check(status == PT_CSV_DONE && pass.rows == rows && pass.digest == digest,
		  "cutting long lines into pieces does not change the rows");

	if (allocs > 0)
	{
		pass_init(&pass, data, len, delimiter, columns_mode, seed);
		alloc_count = 0;
		alloc_fail_at = (long) (hash_bytes(digest, data, len) % (uint64_t) allocs);
		status = run_pass(&pass, budget);
		check(status == PT_CSV_NOMEM, "a failed allocation is reported");
		check(pass.rows <= rows, "no rows appear when memory runs out");
		alloc_fail_at = -1;
	}

	free(data);
	return 0;
}
