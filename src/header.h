/*-------------------------------------------------------------------------
 *
 * header.h
 *	  Header rows: the one table of column names (PT Direct's, synonyms,
 *	  Dutch and German ones) for each field, and the mapping of a file's
 *	  columns to fields, from a header row or from the columns argument.
 *	  Pure C (ICU, no PostgreSQL headers).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PTIMPORT_HEADER_H
#define PTIMPORT_HEADER_H

#include "validate.h"

/* A first row is a header when its cells name at least this many fields. */
#define PT_HEADER_MIN_FIELDS 3

/* What a header row says about the file's columns. */
typedef struct PtHeaderMatch
{
	int			nnamed;			/* fields named by some cell */
	bool		is_header;		/* nnamed >= PT_HEADER_MIN_FIELDS */
	PtColumnMap map;			/* columns to fields (when is_header) */
	int			nignored;		/* non-empty cells that name no field */
	PtField		ambiguous;		/* a field two cells name equally well, or NONE */
	int			ambiguous_columns[2];
	int			nmissing;		/* required fields no cell names */
	PtField		missing[PT_NREQUIRED];
} PtHeaderMatch;

extern void pt_header_match(const PtCsvRow *row, PtHeaderMatch *match);
extern bool pt_header_cell_ignored(const PtCsvRow *row, const PtColumnMap *map,
								   int column);
extern bool pt_field_by_name(const char *name, PtField *field);
extern void pt_ignored_columns_issue(const PtCsvRow *row, const PtColumnMap *map,
									 PtRowResult *result);

#endif							/* PTIMPORT_HEADER_H */
