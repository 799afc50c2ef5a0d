/*-------------------------------------------------------------------------
 *
 * erase.c
 *	  What erase_client() needs in C: whether a stored file names a client,
 *	  read the way the import reads it, and the masked form of an
 *	  internal_id that looks like a national identity number.
 *
 *-------------------------------------------------------------------------
 */
#include "ptimport.h"
#include "textnorm.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(pt_file_mentions);
PG_FUNCTION_INFO_V1(pt_mask_internal_id);

/* What a search for one internal_id in a file's rows has found. */
typedef struct PtMention
{
	const char *internal_id;
	size_t		len;
	bool		found;
} PtMention;

static void match_row(const PtCsvRow *row, void *arg);

/*
 * file_mentions(content bytea, encoding text, delimiter text, columns text[],
 *				 internal_id text) returns boolean
 *	  True when a row of the file, decoded and split as pt_import_clients
 *	  would with these arguments, has a value equal to this internal_id.  A
 *	  file that cannot be decoded (it was refused whole) is searched for the
 *	  id's UTF-8 bytes.
 */
Datum
pt_file_mentions(PG_FUNCTION_ARGS)
{
	bytea	   *content;
	text	   *needle;
	PtImport	imp;
	PtMention	mention;
	PtCsvReader reader;
	MemoryContext cxt;
	MemoryContext old;
	volatile bool readable = true;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(4))
		PG_RETURN_NULL();
	content = PG_GETARG_BYTEA_PP(0);
	needle = PG_GETARG_TEXT_PP(4);
	mention.internal_id = VARDATA_ANY(needle);
	mention.len = VARSIZE_ANY_EXHDR(needle);
	mention.found = false;

	cxt = AllocSetContextCreate(CurrentMemoryContext, "ptimport file_mentions",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	memset(&imp, 0, sizeof(imp));
	PG_TRY();
	{
		PtReadOptions opts;

		/* the columns argument is checked, but every column is searched */
		pt_read_options(&opts, fcinfo->args[1], fcinfo->args[2], fcinfo->args[3]);
		pt_read_input(&imp, content, &opts);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		/* A file refused for its bytes is searched as bytes; else rethrow. */
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		if (ERRCODE_TO_CATEGORY(edata->sqlerrcode) != ERRCODE_DATA_EXCEPTION &&
			ERRCODE_TO_CATEGORY(edata->sqlerrcode) != ERRCODE_PROGRAM_LIMIT_EXCEEDED)
			PG_RE_THROW();
		FlushErrorState();
		readable = false;
	}
	PG_END_TRY();

	if (readable)
	{
		pt_csv_begin(&reader, imp.data, imp.len, imp.read.delimiter,
					 pt_reader_realloc, pt_reader_free, match_row, &mention);
		while (pt_csv_step(&reader, 1024 * 1024) == PT_CSV_MORE && !mention.found)
			CHECK_FOR_INTERRUPTS();
		pt_csv_end(&reader);
	}
	else
		mention.found = mention.len > 0 &&
			memmem(VARDATA_ANY(content), VARSIZE_ANY_EXHDR(content),
				   mention.internal_id, mention.len) != NULL;

	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	PG_RETURN_BOOL(mention.found);
}

/*
 * Reader callback: notes whether a value of the row, cleaned as the import
 * cleans it (trimmed of every space, in NFC), is the internal_id sought.
 * Every column is compared, so a header row or a column mapping cannot
 * hide it; a row where the id stands in another column is taken to name
 * the client too, which errs on the side of erasing.
 */
static void
match_row(const PtCsvRow *row, void *arg)
{
	PtMention  *mention = arg;
	char		buf[PT_NORM_MAX_BYTES];
	int			i;

	for (i = 0; i < row->nfields && i < PT_MAX_COLUMNS; i++)
	{
		size_t		len;
		const char *value = pt_row_value(row, i, &len);
		PtText		text;

		if (len == 0)
			continue;
		pt_text_clean(value, len, buf, sizeof(buf), &text);
		if (text.len == mention->len && memcmp(text.s, mention->internal_id, text.len) == 0)
			mention->found = true;
	}
}

/*
 * mask_internal_id(internal_id text) returns text
 *	  The internal_id as the issue log keeps it: masked when it looks like a
 *	  national identity number (see pt_mask_national_id), else unchanged.
 */
Datum
pt_mask_internal_id(PG_FUNCTION_ARGS)
{
	text	   *id = PG_GETARG_TEXT_PP(0);
	const char *s = VARDATA_ANY(id);
	size_t		len = VARSIZE_ANY_EXHDR(id);

	char	   *masked;

	if (!pt_looks_like_national_id(s, len))
		PG_RETURN_TEXT_P(id);
	masked = palloc(len + 1);
	pt_mask_national_id(s, len, masked);
	PG_RETURN_TEXT_P(cstring_to_text(masked));
}
