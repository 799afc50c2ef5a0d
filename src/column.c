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
#include "utils/lsyscache.h"

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
	if ((Size) items->len + pad + VARHDRSZ + len + ARR_OVERHEAD_WITHNULLS(1, col->nitems + 1) >= MaxAllocSize)
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

/*
 * The column as a text[] with lower bound 1.  The array is made in the
 * column's own buffer (the items move up to make room for the header), so
 * no second copy of the values is made; the column is used up.
 */
ArrayType *
pt_column_array(PtTextColumn *col)
{
	StringInfo	items = &col->items;
	ArrayType  *result;
	Size		header;

	if (col->nitems == 0)
		return construct_empty_array(TEXTOID);

	header = col->hasnull ? ARR_OVERHEAD_WITHNULLS(1, col->nitems) : ARR_OVERHEAD_NONULLS(1);
	if ((Size) items->len + header >= MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("values of one column exceed 1 GB"),
				 errhint("Split the file into smaller files.")));
	enlargeStringInfo(items, (int) header);
	memmove(items->data + header, items->data, items->len);
	memset(items->data, 0, header);

	result = (ArrayType *) items->data;
	SET_VARSIZE(result, header + items->len);
	result->ndim = 1;
	result->dataoffset = col->hasnull ? (int32) header : 0;
	result->elemtype = TEXTOID;
	ARR_DIMS(result)[0] = col->nitems;
	ARR_LBOUND(result)[0] = 1;
	if (col->hasnull)
		memcpy((bits8 *) (ARR_LBOUND(result) + 1), col->nulls, (col->nitems + 7) / 8);

	pfree(col->nulls);
	memset(col, 0, sizeof(*col));
	return result;
}

/*
 * An array of n values of a fixed-size, by-value type (int4, int8, "char")
 * with lower bound 1; *data is set to where the caller writes the values.
 */
ArrayType *
pt_fixed_array(Oid elemtype, int n, void **data)
{
	int16		width;
	bool		byval;
	char		align;
	Size		size;
	ArrayType  *result;

	if (n == 0)
	{
		*data = NULL;
		return construct_empty_array(elemtype);
	}
	get_typlenbyvalalign(elemtype, &width, &byval, &align);
	Assert(byval && width > 0);
	size = ARR_OVERHEAD_NONULLS(1) + (Size) n * width;
	result = palloc_extended(size, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	SET_VARSIZE(result, size);
	result->ndim = 1;
	result->dataoffset = 0;
	result->elemtype = elemtype;
	ARR_DIMS(result)[0] = n;
	ARR_LBOUND(result)[0] = 1;
	*data = (char *) result + ARR_OVERHEAD_NONULLS(1);
	return result;
}
