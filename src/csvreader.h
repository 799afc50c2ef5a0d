/*-------------------------------------------------------------------------
 *
 * csvreader.h
 *	  Splits CSV bytes into rows with libcsv and remembers, for each row,
 *	  the physical line it starts on.  Pure C: no PostgreSQL headers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PTIMPORT_CSVREADER_H
#define PTIMPORT_CSVREADER_H

#include <stdbool.h>
#include <stddef.h>

#include <csv.h>

/* A client has this many fields (internal_id ... client_group). */
#define PT_NFIELDS 9

/*
 * Columns of a row the reader keeps: enough for practice-system exports
 * (Cliniko writes about 38).  Fields past it are counted, not kept.
 */
#define PT_MAX_COLUMNS 256

/* What, if anything, made a row unreadable as CSV. */
typedef enum PtCsvProblem
{
	PT_CSV_OK = 0,
	PT_CSV_STRAY_QUOTE,			/* a double quote inside an unquoted value */
	PT_CSV_TEXT_AFTER_QUOTE,	/* text after the closing quote of a value */
	PT_CSV_UNCLOSED_QUOTE		/* a quoted value that never ends */
} PtCsvProblem;

/* One non-blank row as the reader hands it over. */
typedef struct PtCsvRow
{
	long		line_no;		/* physical line the row starts on (1-based) */
	long		end_line;		/* physical line the row ends on */
	size_t		raw_offset;		/* the row's bytes in the input ... */
	size_t		raw_length;		/* ... without its final line end */
	int			nfields;		/* fields seen, including any past PT_MAX_COLUMNS */
	int			nvalues;		/* fields up to the last non-empty one, also
								 * counted past PT_MAX_COLUMNS */
	/* trimmed, NUL-terminated values: the first Min(nfields, PT_MAX_COLUMNS) */
	const char *value[PT_MAX_COLUMNS];
	size_t		length[PT_MAX_COLUMNS];
	PtCsvProblem problem;
	long		problem_line;	/* line where the problem was found */
} PtCsvRow;

typedef void (*PtCsvRowFn) (const PtCsvRow *row, void *arg);

/*
 * Allocation hooks: realloc_fn(NULL, n) must allocate.  They may report
 * failure by returning NULL (the reader then stops with PT_CSV_NOMEM) or by
 * not returning at all (PostgreSQL's ereport).
 */
typedef void *(*PtReallocFn) (void *ptr, size_t size);
typedef void (*PtFreeFn) (void *ptr);

typedef enum PtCsvStatus
{
	PT_CSV_MORE = 0,			/* call pt_csv_step again */
	PT_CSV_DONE,				/* every row has been handed over */
	PT_CSV_NOMEM				/* an allocation failed */
} PtCsvStatus;

typedef struct PtCsvReader
{
	struct csv_parser parser;
	const unsigned char *data;
	size_t		len;
	size_t		pos;			/* next byte to feed */
	long		line;			/* physical line of data[pos] */
	size_t		line_offset;	/* where that line starts */
	size_t		content_end;	/* end of the current line, before its line end */
	bool		in_row;			/* a row has begun and not yet ended */
	bool		finished;
	bool		nomem;
	unsigned char delimiter;	/* ',' ';' '\t' or '|' */
	PtCsvRow	row;
	size_t		value_offset[PT_MAX_COLUMNS];
	char	   *buf;			/* the current row's trimmed values */
	size_t		buf_used;
	size_t		buf_size;
	PtReallocFn realloc_fn;
	PtFreeFn	free_fn;
	PtCsvRowFn	row_fn;
	void	   *row_arg;
} PtCsvReader;

extern void pt_csv_begin(PtCsvReader *reader, const void *data, size_t len,
						 unsigned char delimiter,
						 PtReallocFn realloc_fn, PtFreeFn free_fn,
						 PtCsvRowFn row_fn, void *row_arg);
extern PtCsvStatus pt_csv_step(PtCsvReader *reader, size_t budget);
extern void pt_csv_end(PtCsvReader *reader);

extern long pt_line_of_offset(const void *data, size_t len, size_t offset);
extern size_t pt_trim(const char **value, size_t len);

/*
 * Value of column i of a row ("" when the row has no such column or it is
 * past PT_MAX_COLUMNS); *len gets its length.
 */
static inline const char *
pt_row_value(const PtCsvRow *row, int i, size_t *len)
{
	if (i < 0 || i >= row->nfields || i >= PT_MAX_COLUMNS)
	{
		*len = 0;
		return "";
	}
	*len = row->length[i];
	return row->value[i];
}

#endif							/* PTIMPORT_CSVREADER_H */
