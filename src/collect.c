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

/* A string seen in the file (an internal_id or a group's spelling). */
typedef struct SeenString
{
	char	   *key;			/* hash key: points to the string's text */
	int64		value;			/* the line of its first row, or its index */
} SeenString;

static void collect_row(const PtCsvRow *row, void *arg);
static void add_client(PtImport *imp, const PtCsvRow *row, const PtRowResult *result);
static void add_issues(PtImport *imp, const PtCsvRow *row, const PtRowResult *result);
static char *db_text(const char *s, size_t len, size_t *out_len);
static char *clipped(const char *s, size_t len, size_t max);
static void *reader_realloc(void *ptr, size_t size);
static void reader_free(void *ptr);
static HTAB *seen_create(PtImport *imp, const char *name);
static bool seen_lookup(PtImport *imp, HTAB *seen, const char *key, int64 *value);
static uint32 seen_hash(const void *key, Size keysize);
static int	seen_match(const void *key1, const void *key2, Size keysize);

/* Reads every row of imp->data; raises the whole-file errors. */
void
pt_collect_rows(PtImport *imp)
{
	PtCsvReader reader;
	PtCsvStatus status;
	int			f;

	for (f = 0; f < PT_NFIELDS; f++)
		pt_column_init(&imp->columns[f]);
	pt_column_init(&imp->group_names);
	imp->maxclients = 64;
	imp->years = palloc(imp->maxclients * sizeof(int32));
	imp->group_ords = palloc(imp->maxclients * sizeof(int32));
	imp->maxissues = 16;
	imp->issues = palloc(imp->maxissues * sizeof(PtReportedIssue));

	imp->lookup_cxt = AllocSetContextCreate(CurrentMemoryContext, "ptimport lookups",
											ALLOCSET_DEFAULT_SIZES);
	imp->seen_ids = seen_create(imp, "ptimport internal_ids");
	imp->spellings = seen_create(imp, "ptimport group spellings");

	pt_csv_begin(&reader, imp->data, imp->len, reader_realloc, reader_free,
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

		if (f == PT_FIELD_BIRTH_YEAR || f == PT_FIELD_CLIENT_GROUP)
			continue;
		if (f == PT_FIELD_GENDER)
			pt_column_add(col, &result->gender, 1);
		else if (result->keep[f])
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
		imp->group_ords = repalloc_huge(imp->group_ords, imp->maxclients * sizeof(int32));
	}
	imp->years[imp->nclients] = result->birth_year;
	imp->group_ords[imp->nclients] = group_ord;
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
		PtReportedIssue *out;

		if (imp->nissues == imp->maxissues)
		{
			imp->maxissues *= 2;
			imp->issues = repalloc_huge(imp->issues,
										imp->maxissues * sizeof(PtReportedIssue));
		}
		out = &imp->issues[imp->nissues++];
		out->line_no = row->line_no > PG_INT32_MAX ? PG_INT32_MAX : (int32) row->line_no;
		out->internal_id = internal_id;
		out->severity = issue->severity;
		out->field = issue->field;
		out->code = issue->code;
		out->message = db_text(issue->message, strlen(issue->message), NULL);
		out->raw_line = raw_line;
	}
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
static void *
reader_realloc(void *ptr, size_t size)
{
	if (ptr == NULL)
		return MemoryContextAllocHuge(CurrentMemoryContext, size);
	return repalloc_huge(ptr, size);
}

static void
reader_free(void *ptr)
{
	if (ptr != NULL)
		pfree(ptr);
}

/* A string-keyed hash table in the lookup context. */
static HTAB *
seen_create(PtImport *imp, const char *name)
{
	HASHCTL		ctl;

	ctl.keysize = sizeof(char *);
	ctl.entrysize = sizeof(SeenString);
	ctl.hash = seen_hash;
	ctl.match = seen_match;
	ctl.hcxt = imp->lookup_cxt;
	return hash_create(name, 1024, &ctl,
					   HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
}

/*
 * If key was seen before, sets *value to what was stored with it and returns
 * true; otherwise stores *value with a copy of key and returns false.
 */
static bool
seen_lookup(PtImport *imp, HTAB *seen, const char *key, int64 *value)
{
	SeenString *entry;
	bool		found;

	entry = hash_search(seen, &key, HASH_ENTER, &found);
	if (found)
	{
		*value = entry->value;
		return true;
	}
	entry->key = MemoryContextStrdup(imp->lookup_cxt, key);
	entry->value = *value;
	return false;
}

static uint32
seen_hash(const void *key, Size keysize)
{
	const char *s = *(char *const *) key;

	(void) keysize;
	return hash_bytes((const unsigned char *) s, (int) strlen(s));
}

static int
seen_match(const void *key1, const void *key2, Size keysize)
{
	(void) keysize;
	return strcmp(*(char *const *) key1, *(char *const *) key2);
}
