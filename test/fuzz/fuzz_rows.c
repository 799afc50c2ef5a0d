/*-------------------------------------------------------------------------
 *
 * fuzz_rows.c
 *	  libFuzzer target for the pure-C half of ptimport: reads arbitrary bytes
 *	  with the CSV reader in small steps, validates every row, and abort()s
 *	  when a row, an issue or the reader's progress breaks an invariant.
 *
 *-------------------------------------------------------------------------
 */
#include "csvreader.h"
#include "validate.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	int			f;

	check_row(pass, row);
	pass->rows++;

	pass->digest = hash_bytes(pass->digest, &row->line_no, sizeof(row->line_no));
	pass->digest = hash_bytes(pass->digest, &row->end_line, sizeof(row->end_line));
	pass->digest = hash_bytes(pass->digest, &row->raw_offset, sizeof(row->raw_offset));
	pass->digest = hash_bytes(pass->digest, &row->raw_length, sizeof(row->raw_length));
	pass->digest = hash_bytes(pass->digest, &row->nfields, sizeof(row->nfields));
	pass->digest = hash_bytes(pass->digest, &row->problem, sizeof(row->problem));
	pass->digest = hash_bytes(pass->digest, &row->problem_line, sizeof(row->problem_line));
	for (f = 0; f < PT_NFIELDS; f++)
	{
		pass->digest = hash_bytes(pass->digest, &row->length[f], sizeof(row->length[f]));
		pass->digest = hash_bytes(pass->digest, row->value[f], row->length[f]);
	}

	if (!pass->validate)
		return;
	pt_validate_row(row, FUZZ_THIS_YEAR, pass->rows == 1, &result);
	check_result(pass, row, &result, false);
	check_duplicate(pass, row, &result);
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

	for (f = 0; f < PT_NFIELDS; f++)
	{
		const char *v = row->value[f];
		size_t		len = row->length[f];
		const unsigned char *u = (const unsigned char *) v;

		check(v != NULL, "value is set");
		if (f >= row->nfields)
			check(len == 0, "a missing value is empty");
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

/* The validator's promises about one row's result. */
static void
check_result(FuzzPass *pass, const PtCsvRow *row, const PtRowResult *result,
			 bool duplicate)
{
	bool		any_error = false;
	int			i;
	int			f;

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
		check(issue->code >= PT_MALFORMED_CSV && issue->code <= PT_DUPLICATE_INTERNAL_ID,
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
	check(result->failed == any_error, "failed says whether an issue is an error");
	if (row->problem != PT_CSV_OK)
		check(result->failed && result->nissues == (duplicate ? 2 : 1),
			  "a malformed row has one error");
	for (f = 0; f < PT_NFIELDS; f++)
		if (result->keep[f])
			check(row->problem == PT_CSV_OK && row->length[f] > 0, "a kept value is there");
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
	const char *id = row->value[PT_FIELD_INTERNAL_ID];
	int			before = result->nissues;
	int			i;

	if (!result->keep[PT_FIELD_INTERNAL_ID])
		return;
	check(memchr(id, '\0', row->length[PT_FIELD_INTERNAL_ID]) == NULL,
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
	pt_csv_begin(&reader, pass->data, pass->len, fuzz_realloc, fuzz_free,
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
 * Reads the input four times: in small steps (the budget comes from the
 * first byte) with the validator; in one step; in pieces of a few bytes
 * (both must give the same rows); and with allocations failing from some
 * point on (which must be reported, and leak nothing).
 */
int
LLVMFuzzerTestOneInput(const uint8_t *input, size_t size)
{
	unsigned char *data = malloc(size > 0 ? size : 1);
	FuzzPass	pass;
	size_t		budget = size > 0 ? 1 + input[0] % 64 : 1;
	uint64_t	digest;
	long		rows;
	long		allocs;
	PtCsvStatus status;

	check(data != NULL, "malloc");
	memcpy(data, input, size);

	memset(&pass, 0, sizeof(pass));
	pass.data = data;
	pass.len = size;
	pass.validate = true;
	alloc_count = 0;
	alloc_fail_at = -1;
	status = run_pass(&pass, budget);
	check(status == PT_CSV_DONE, "reading with working allocations succeeds");
	pass_done(&pass);
	digest = pass.digest;
	rows = pass.rows;
	allocs = alloc_count;

	memset(&pass, 0, sizeof(pass));
	pass.data = data;
	pass.len = size;
	status = run_pass(&pass, SIZE_MAX);
	check(status == PT_CSV_DONE && pass.rows == rows && pass.digest == digest,
		  "the step budget does not change the rows");

	memset(&pass, 0, sizeof(pass));
	pass.data = data;
	pass.len = size;
	fuzz_piece_max = 1 + digest % 16;
	status = run_pass(&pass, budget);
	fuzz_piece_max = 65536;
	check(status == PT_CSV_DONE && pass.rows == rows && pass.digest == digest,
		  "cutting long lines into pieces does not change the rows");

	if (allocs > 0)
	{
		memset(&pass, 0, sizeof(pass));
		pass.data = data;
		pass.len = size;
		alloc_count = 0;
		alloc_fail_at = (long) (hash_bytes(digest, data, size) % (uint64_t) allocs);
		status = run_pass(&pass, budget);
		check(status == PT_CSV_NOMEM, "a failed allocation is reported");
		check(pass.rows <= rows, "no rows appear when memory runs out");
		alloc_fail_at = -1;
	}

	free(data);
	return 0;
}
