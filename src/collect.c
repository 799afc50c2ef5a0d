/*-------------------------------------------------------------------------
 *
 * collect.c
 *	  Drives the CSV reader over the decoded file and validates each row:
 *	  valid rows go into the column arrays the writer sends in one go, every
 *	  problem into the report.
 *
 *-------------------------------------------------------------------------
 */
#include "ptimport.h"

#include "common/hashfn.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"

/* Bytes fed to the reader between two interrupt checks. */
#define PT_STEP_BYTES (256 * 1024)

/* Longest raw line kept in the report, in bytes. */
#define PT_RAW_LINE_MAX 1000

/*
 * A string seen in the file (an internal_id or a group's spelling): its text
 * is kept once, NUL-terminated, in imp->seen_keys, and found by its offset.
 * Open addressing (simplehash) keeps a million ids in one array, so a lookup
 * costs about one cache miss, not three as with a chained table.
 */
typedef struct PtSeen
{
	uint32		key;			/* offset of the text in imp->seen_keys */
	uint32		hash;
	int32		value;			/* the line of its first row, or its index */
	char		status;			/* used by simplehash */
} PtSeen;

#define SEEN_TEXT(tb, k) (((StringInfo) (tb)->private_data)->data + (k))
#define SH_PREFIX pt_seen
#define SH_ELEMENT_TYPE PtSeen
#define SH_KEY_TYPE uint32
#define SH_KEY key
#define SH_HASH_KEY(tb, k) hash_bytes((const unsigned char *) SEEN_TEXT(tb, k), strlen(SEEN_TEXT(tb, k)))
#define SH_EQUAL(tb, a, b) (strcmp(SEEN_TEXT(tb, a), SEEN_TEXT(tb, b)) == 0)
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a) ((a)->hash)
#define SH_SCOPE static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

static void collect_row(const PtCsvRow *row, void *arg);
static void add_client(PtImport *imp, const PtCsvRow *row, const PtRowResult *result);
static void add_issues(PtImport *imp, const PtCsvRow *row, const PtRowResult *result);
static PtReportedIssue *new_issue(PtImport *imp);
static char *db_text(const char *s, size_t len, size_t *out_len);
static char *clipped(const char *s, size_t len, size_t max);
static bool seen_lookup(PtImport *imp, pt_seen_hash *seen, const char *key, int64 *value);

/* Reads every row of imp->data; raises the whole-file errors. */
void
pt_collect_rows(PtImport *imp)
{
	PtCsvReader reader;
	PtCsvStatus status;
	MemoryContext old;
	int			f;

	for (f = 0; f < PT_NFIELDS; f++)
		pt_column_init(&imp->columns[f]);
	pt_column_init(&imp->group_names);
	imp->maxclients = 64;
	imp->years = palloc(imp->maxclients * sizeof(int32));
	imp->genders = palloc(imp->maxclients * sizeof(char));
	imp->group_ords = palloc(imp->maxclients * sizeof(int32));
	imp->client_lines = palloc(imp->maxclients * sizeof(int32));
	if (imp->mode != PT_MODE_UPSERT)
		imp->client_refs = palloc(imp->maxclients * sizeof(PtClientRef));
	imp->maxissues = 16;
	imp->issues = palloc(imp->maxissues * sizeof(PtReportedIssue));

	/* The id table starts sized for the rows the file may hold; it grows if need be. */
	imp->lookup_cxt = AllocSetContextCreate(CurrentMemoryContext, "ptimport lookups",
											ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(imp->lookup_cxt);
	initStringInfo(&imp->seen_keys);
	MemoryContextSwitchTo(old);
	imp->seen_ids = pt_seen_create(imp->lookup_cxt,
								   (uint32) Min((size_t) pt_max_rows, imp->len / 12 + 1),
								   &imp->seen_keys);
	imp->spellings = pt_seen_create(imp->lookup_cxt, 64, &imp->seen_keys);

	pt_csv_begin(&reader, imp->data, imp->len, pt_reader_realloc, pt_reader_free,
				 collect_row, imp);
	do
	{
		CHECK_FOR_INTERRUPTS();
		status = pt_csv_step(&reader, PT_STEP_BYTES);
	} while (status == PT_CSV_MORE);
	pt_csv_end(&reader);
	if (status == PT_CSV_NOMEM)
		elog(ERROR, "CSV reader ran out of memory");

	/* The lookups are done with: free them before the writes need memory. */
	MemoryContextDelete(imp->lookup_cxt);
	imp->lookup_cxt = NULL;
	imp->seen_ids = imp->spellings = NULL;

	if (imp->rows_total == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("file contains no rows"),
				 errdetail("The file is empty or holds only blank lines and empty rows."),
				 errhint("Check that the right file was uploaded.")));
	if (imp->rows_total > pt_max_rows)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("file has too many rows"),
				 errdetail("The file has %lld rows; at most %d can be imported at once (ptimport.max_rows).",
						   (long long) imp->rows_total, pt_max_rows),
				 errhint("Split the file into files of at most %d rows each.", pt_max_rows)));
}

/* Reader callback: validates one row and files its outcome. */
static void
collect_row(const PtCsvRow *row, void *arg)
{
	PtImport   *imp = arg;
	PtRowResult result;

	/* Past the limit rows are only counted: the import will be refused. */
	if (++imp->rows_total > pt_max_rows)
		return;

	pt_validate_row(row, imp->this_year, imp->rows_total == 1, &result);

	if (result.keep[PT_FIELD_INTERNAL_ID])
	{
		int64		first_line = row->line_no;

		if (seen_lookup(imp, imp->seen_ids, row->value[PT_FIELD_INTERNAL_ID], &first_line))
			pt_add_duplicate(&result, (long) first_line);
	}

	if (result.failed)
		imp->rows_failed++;
	else
	{
		add_client(imp, row, &result);
		if (result.nissues > 0)
			imp->rows_warned++;
		if (imp->client_refs != NULL)
		{
			PtClientRef *ref = &imp->client_refs[imp->nclients - 1];

			ref->raw_offset = row->raw_offset;
			ref->raw_length = (uint32) Min(row->raw_length, PG_UINT32_MAX);
			ref->warned = result.nissues > 0;
		}
	}
	if (result.nissues > 0)
		add_issues(imp, row, &result);
}

/* Appends a valid row to the columns; values not kept become NULL. */
static void
add_client(PtImport *imp, const PtCsvRow *row, const PtRowResult *result)
{
	int32		group_ord = 0;
	int			f;

	for (f = 0; f < PT_NFIELDS; f++)
	{
		PtTextColumn *col = &imp->columns[f];
		size_t		len;
		char	   *s;

		if (f == PT_FIELD_BIRTH_YEAR || f == PT_FIELD_GENDER || f == PT_FIELD_CLIENT_GROUP)
			continue;
		if (result->keep[f])
		{
			s = db_text(row->value[f], row->length[f], &len);
			pt_column_add(col, s, len);
		}
		else
			pt_column_add_null(col);
	}

	/* Each spelling of a group is sent once; rows carry its index. */
	if (result->keep[PT_FIELD_CLIENT_GROUP])
	{
		int64		ord = imp->group_names.nitems + 1;

		if (!seen_lookup(imp, imp->spellings, row->value[PT_FIELD_CLIENT_GROUP], &ord))
		{
			size_t		len;
			char	   *s = db_text(row->value[PT_FIELD_CLIENT_GROUP],
									row->length[PT_FIELD_CLIENT_GROUP], &len);

			pt_column_add(&imp->group_names, s, len);
		}
		group_ord = (int32) ord;
	}

	if (imp->nclients == imp->maxclients)
	{
		imp->maxclients *= 2;
		imp->years = repalloc_huge(imp->years, imp->maxclients * sizeof(int32));
		imp->genders = repalloc_huge(imp->genders, imp->maxclients * sizeof(char));
		imp->group_ords = repalloc_huge(imp->group_ords, imp->maxclients * sizeof(int32));
		imp->client_lines = repalloc_huge(imp->client_lines, imp->maxclients * sizeof(int32));
		if (imp->client_refs != NULL)
			imp->client_refs = repalloc_huge(imp->client_refs,
											 imp->maxclients * sizeof(PtClientRef));
	}
	imp->years[imp->nclients] = result->birth_year;
	imp->genders[imp->nclients] = result->gender;
	imp->group_ords[imp->nclients] = group_ord;
	imp->client_lines[imp->nclients] = row->line_no > PG_INT32_MAX ? PG_INT32_MAX : (int32) row->line_no;
	imp->nclients++;
}

/* Copies the row's problems into the report. */
static void
add_issues(PtImport *imp, const PtCsvRow *row, const PtRowResult *result)
{
	const char *id = row->value[PT_FIELD_INTERNAL_ID];
	size_t		id_len = row->length[PT_FIELD_INTERNAL_ID];
	char	   *internal_id = id_len > 0 ? clipped(id, id_len, PT_MAX_INTERNAL_ID * 4) : NULL;
	char	   *raw_line = clipped(imp->data + row->raw_offset, row->raw_length,
								   PT_RAW_LINE_MAX);
	int			i;

	for (i = 0; i < result->nissues; i++)
	{
		const PtIssue *issue = &result->issues[i];
		PtReportedIssue *out = new_issue(imp);

		out->line_no = row->line_no > PG_INT32_MAX ? PG_INT32_MAX : (int32) row->line_no;
		out->internal_id = internal_id;
		out->severity = issue->severity;
		out->field = issue->field;
		out->code = issue->code;
		out->message = db_text(issue->message, strlen(issue->message), NULL);
		out->raw_line = raw_line;
	}
}

/* A new entry at the end of the report. */
static PtReportedIssue *
new_issue(PtImport *imp)
{
	PtReportedIssue *issue;

	if (imp->nissues == imp->maxissues)
	{
		imp->maxissues *= 2;
		imp->issues = repalloc_huge(imp->issues, imp->maxissues * sizeof(PtReportedIssue));
	}
	issue = &imp->issues[imp->nissues];
	issue->seq = imp->nissues++;
	return issue;
}

/*
 * Reports that the mode refuses collected client number client (0-based),
 * whose internal_id is internal_id: the row becomes a failed row.  The
 * report is put back in line order by pt_sort_issues.
 */
void
pt_refuse_client(PtImport *imp, int client, const char *internal_id)
{
	const PtClientRef *ref = &imp->client_refs[client];
	PtIssue		issue;
	PtReportedIssue *out;

	pt_refused_issue(&issue, imp->mode == PT_MODE_INSERT);
	out = new_issue(imp);
	out->line_no = imp->client_lines[client];
	out->internal_id = pstrdup(internal_id);
	out->severity = issue.severity;
	out->field = issue.field;
	out->code = issue.code;
	out->message = db_text(issue.message, strlen(issue.message), NULL);
	out->raw_line = clipped(imp->data + ref->raw_offset, ref->raw_length, PT_RAW_LINE_MAX);
	imp->rows_failed++;
	if (ref->warned)
		imp->rows_warned--;
}

static int
issue_order(const void *a, const void *b)
{
	const PtReportedIssue *x = a;
	const PtReportedIssue *y = b;

	if (x->line_no != y->line_no)
		return x->line_no < y->line_no ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Puts the report in line order, each line's problems in the order found. */
void
pt_sort_issues(PtImport *imp)
{
	if (imp->nissues > 1)
		qsort(imp->issues, imp->nissues, sizeof(PtReportedIssue), issue_order);
}

/*
 * A UTF-8 value in the database's encoding.  The result may point into the
 * input (it is then not NUL-terminated: use *out_len).
 */
static char *
db_text(const char *s, size_t len, size_t *out_len)
{
	char	   *result;

	if (GetDatabaseEncoding() == PG_UTF8 || GetDatabaseEncoding() == PG_SQL_ASCII)
	{
		if (out_len)
			*out_len = len;
		else
			return pnstrdup(s, len);
		return (char *) s;
	}
	result = (char *) pg_do_encoding_conversion((unsigned char *) pnstrdup(s, len), (int) len,
												PG_UTF8, GetDatabaseEncoding());
	if (out_len)
		*out_len = strlen(result);
	return result;
}

/* At most max bytes of a value, cut on a character boundary, marked "...". */
static char *
clipped(const char *s, size_t len, size_t max)
{
	size_t		keep;
	char	   *text;

	if (len <= max)
		return db_text(s, len, NULL);
	keep = pg_encoding_mbcliplen(PG_UTF8, s, (int) len, (int) max);
	text = db_text(s, keep, NULL);
	return psprintf("%s...", text);
}

/* libcsv's allocator: realloc(NULL, n) must allocate, so map it to palloc. */
void *
pt_reader_realloc(void *ptr, size_t size)
{
	if (ptr == NULL)
		return MemoryContextAllocHuge(CurrentMemoryContext, size);
	return repalloc_huge(ptr, size);
}

void
pt_reader_free(void *ptr)
{
	if (ptr != NULL)
		pfree(ptr);
}

/*
 * If key was seen before, sets *value to what was stored with it and returns
 * true; otherwise stores *value with a copy of key and returns false.  The
 * key is appended to imp->seen_keys to be looked up, and taken back if it
 * was there already.
 */
static bool
seen_lookup(PtImport *imp, pt_seen_hash *seen, const char *key, int64 *value)
{
	StringInfo	keys = &imp->seen_keys;
	int			offset = keys->len;
	PtSeen	   *entry;
	bool		found;

	appendBinaryStringInfo(keys, key, strlen(key) + 1);
	entry = pt_seen_insert(seen, (uint32) offset, &found);
	if (found)
	{
		keys->len = offset;
		*value = entry->value;
		return true;
	}
	/* a file has fewer than 2^31 lines: it is under 1 GB */
	entry->value = (int32) *value;
	return false;
}
