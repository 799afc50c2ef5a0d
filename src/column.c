/*-------------------------------------------------------------------------
 *
 * column.c
 *	  Builds a one-dimensional text[] directly in its storage format, so the
 *	  rows of a large file reach SPI as arrays without a palloc per value.
 *
 *-------------------------------------------------------------------------
 */
#include "ptimport.h"

#include "catalog/pg_type_d.h"

/* Starts an empty column. */
void
pt_column_init(PtTextColumn *col)
{
	initStringInfo(&col->items);
	col->maxitems = 64;
	col->nulls = palloc0((col->maxitems + 7) / 8);
	col->nitems = 0;
	col->hasnull = false;
}

/* Makes room in the null bitmap for one more item. */
static void
column_grow(PtTextColumn *col)
{
	if (col->nitems < col->maxitems)
		return;
	col->nulls = repalloc_huge(col->nulls, (col->maxitems * 2 + 7) / 8);
	memset(col->nulls + (col->maxitems + 7) / 8, 0,
		   (col->maxitems * 2 + 7) / 8 - (col->maxitems + 7) / 8);
	col->maxitems *= 2;
}

/* Appends one value, as a 4-byte-header varlena aligned like int4. */
void
pt_column_add(PtTextColumn *col, const char *s, size_t len)
{
	StringInfo	items = &col->items;
	int			pad = INTALIGN(items->len) - items->len;

	column_grow(col);
	if ((Size) items->len + pad + VARHDRSZ + len >= MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("values of one column exceed 1 GB"),
				 errhint("Split the file into smaller files.")));
	enlargeStringInfo(items, pad + VARHDRSZ + (int) len);
	memset(items->data + items->len, 0, pad);
	items->len += pad;
	SET_VARSIZE(items->data + items->len, VARHDRSZ + len);
	memcpy(items->data + items->len + VARHDRSZ, s, len);
	items->len += VARHDRSZ + len;
	col->nulls[col->nitems / 8] |= 1 << (col->nitems % 8);
	col->nitems++;
}

/* Appends a NULL. */
void
pt_column_add_null(PtTextColumn *col)
{
	column_grow(col);
	col->hasnull = true;
	col->nitems++;
}

/* The column as a text[] with lower bound 1. */
ArrayType *
pt_column_array(PtTextColumn *col)
{
	ArrayType  *result;
	int32		dataoffset;
	Size		total;

	if (col->nitems == 0)
		return construct_empty_array(TEXTOID);

	dataoffset = col->hasnull ? ARR_OVERHEAD_WITHNULLS(1, col->nitems) : 0;
	total = (col->hasnull ? (Size) dataoffset : ARR_OVERHEAD_NONULLS(1)) + col->items.len;
	if (!AllocSizeIsValid(total))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("values of one column exceed 1 GB"),
				 errhint("Split the file into smaller files.")));

	result = palloc0(total);
	SET_VARSIZE(result, total);
	result->ndim = 1;
	result->dataoffset = dataoffset;
	result->elemtype = TEXTOID;
	ARR_DIMS(result)[0] = col->nitems;
	ARR_LBOUND(result)[0] = 1;
	if (col->hasnull)
		memcpy((bits8 *) (ARR_LBOUND(result) + 1), col->nulls, (col->nitems + 7) / 8);
	memcpy((char *) result + (total - col->items.len), col->items.data, col->items.len);
	return result;
}
