#!/usr/bin/env python3
"""Writes test/data/real/*: the files practices' tools really produce, byte
for byte, for the real_files_* regression tests and as fuzzing seeds.

Each file is built from explicit text, an explicit encoding, delimiter and
line end, so running this again gives the same bytes (the tests read the
committed files; rerun this after changing it and commit both).  The comment
above each file says which producer writes that shape and why; the facts
come from ../shared/research/csv-in-the-wild.md, and where a layout was not
found publicly the file says what was assumed.

Usage: python3 test/data/make-real-files.py   (from anywhere)
"""

import io
import os
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "real")


def write(name, data):
    """Writes bytes to test/data/real/name."""
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def csv_text(rows, delimiter=",", line_end="\r\n", quote_text=False, final_line_end=True):
    """Joins rows (lists of str) into CSV text: a value is quoted when it
    holds the delimiter, a quote or a line break (or, quote_text, whenever
    it is not a number), with quotes doubled, as Excel and LibreOffice
    write them."""
    lines = []
    for row in rows:
        cells = []
        for value in row:
            if (quote_text and not value.isdigit()) or \
                    any(c in value for c in (delimiter, '"', "\n", "\r")):
                value = '"' + value.replace('"', '""') + '"'
            cells.append(value)
        lines.append(delimiter.join(cells))
    text = line_end.join(lines)
    return text + line_end if final_line_end else text


os.makedirs(OUT, exist_ok=True)

# --- Excel on Windows, "CSV (Comma delimited)", en-GB/en-US --------------
# The default "CSV" of Excel on Windows writes the Windows ANSI code page
# (Windows-1252 in western locales), CRLF line ends, no BOM; a line break
# typed in a cell (Alt+Enter) is written as a bare LF inside quotes.  PT
# Direct's column order without a header, as a practice prepares it.
write("excel-win-csv-1252.csv", csv_text([
    ["PT-1001", "Jürgen", "Müller", "1977", "m", "j.mueller@example.de", "0049171234567", "LBP-01", "Back pain"],
    ["PT-1002", "Renée", "Dupré", "1985", "f", "renee@example.fr", "0033612345678", "", "Knee rehab"],
    ["PT-1003", "Zoë", "O'Brien", "1990", "f", "", "", "SHL-3", "Shoulder"],
    ["PT-1004", "José", "Peña", "1968", "M", "jose.pena@example.es", "", "", "Back pain"],
    ["PT-1005", "Søren", "Ålborg", "2001", "m", "", "0045201234567", "NECK-1", "Neck\nchronic"],
]).encode("cp1252"))

# --- Excel on Windows, "CSV UTF-8 (Comma delimited)" ----------------------
# UTF-8 with a byte-order mark, CRLF.  Characters outside Windows-1252
# (Polish, Czech, Greek) survive only in this format.
write("excel-win-csv-utf8.csv", b"\xef\xbb\xbf" + csv_text([
    ["PT-2001", "Łukasz", "Wiśniewski", "1979", "m", "lukasz@example.pl", "0048601234567", "", "Back pain"],
    ["PT-2002", "Zdeněk", "Dvořák", "1983", "m", "", "", "", ""],
    ["PT-2003", "Ελένη", "Παπαδοπούλου", "1992", "f", "", "00306912345678", "", "Knee rehab"],
]).encode("utf-8"))

# --- Excel on Windows, German locale (de-DE), "CSV (Trennzeichen-getrennt)" -
# A locale with a decimal comma uses ; as the list separator, so Excel
# writes semicolons; still Windows-1252 and CRLF.  A diagnosis code with a
# decimal comma (M54,5) must not make the file look comma-separated.  Excel
# turned a long numeric id into 5,58199E+12 (scientific notation with the
# locale's decimal comma).
write("excel-de-semicolon-1252.csv", csv_text([
    ["PT-3001", "Jürgen", "Weiß", "1961", "m", "juergen.weiss@example.de", "+49 171 2345678", "M54,5", "Rücken"],
    ["PT-3002", "Käthe", "Schröder", "1958", "w", "", "", "M17,1", "Knie"],
    ["PT-3003", "Björn", "Groß", "1974", "männlich", "", "0049 160 9876543", "", "Rücken"],
    ["5,58199E+12", "Anke", "Vogel", "1980", "weiblich", "", "", "", ""],
], delimiter=";").encode("cp1252"))

# --- Excel on Windows, Dutch locale (nl-NL), with a Dutch header -----------
# Semicolons and Windows-1252 as in de-DE; the practice kept its own Dutch
# column names; dates of birth in the locale's d-m-yyyy display format,
# Geslacht written M/V, local mobile numbers (06-...) next to international
# ones.
write("excel-nl-semicolon-header.csv", csv_text([
    ["Patiëntnummer", "Voornaam", "Achternaam", "Geboortedatum", "Geslacht", "E-mailadres", "Mobiel", "Diagnosecode", "Groep"],
    ["NL-01", "Eline", "de Vries", "15-3-1984", "V", "eline@example.nl", "+31 6 12345678", "L02", "Rug"],
    ["NL-02", "Daan", "Jansen", "1-11-1990", "M", "", "06-23456789", "", "Knie"],
    ["NL-03", "Fleur", "Bakker", "31-2-1975", "V", "", "", "", ""],
    ["NL-04", "Thijs", "Visser", "07-08-1966", "M", "thijs@visser.example", "0031 6 34567890", "", "Rug"],
], delimiter=";").encode("cp1252"))

# --- Excel "Unicode Text (*.txt)", renamed to .csv by the user -------------
# UTF-16LE with a byte-order mark, tab-separated, CRLF (0D 00 0A 00).  The
# sheet kept PT Direct's column names as its first row.
write("excel-unicode-text-utf16le.csv", b"\xff\xfe" + csv_text([
    ["Internal ID", "First name", "Last name", "Year of birth", "Gender", "Email", "Mobile number", "Diagnosis code", "Client group"],
    ["UT-1", "Mette", "Frederiksen", "1977", "f", "mette@example.dk", "0045 20 12 34 56", "", "Back pain"],
    ["UT-2", "Ahmet", "Yılmaz", "1969", "m", "", "", "", ""],
    ["UT-3", "Chloé", "Lefèvre", "1999", "f", "chloe@example.fr", "", "KNEE-2", "Knee rehab"],
], delimiter="\t").encode("utf-16-le"))

# --- Excel for Mac, old "CSV (Macintosh)" / "Comma Separated Values" -------
# MacRoman, lines ended by CR only, no BOM.  PostgreSQL has no MacRoman
# conversion; ptimport reads CR-only files that are not UTF-8 as MacRoman.
write("excel-mac-csv-macroman.csv", csv_text([
    ["MAC-1", "Jürgen", "Müller", "1977", "m", "", "", "", "Back pain"],
    ["MAC-2", "Renée", "Dupré", "1985", "f", "", "", "", "Knee rehab"],
    ["MAC-3", "Björk", "Jónsdóttir", "1965", "f", "", "", "", ""],
    ["MAC-4", "François", "Garçon", "1972", "m", "", "", "", "Back pain"],
], line_end="\r").encode("mac_roman"))

# A Windows-1252 file whose lines end in CR only (a Windows program set to
# classic Mac line ends): its accented letters make sense in Windows-1252,
# not in MacRoman, so it is not read as MacRoman.
write("cr-only-1252.csv", csv_text([
    ["CR-1", "Jürgen", "Müller", "1977", "m", "", "", "", ""],
    ["CR-2", "Renée", "Dupré", "1985", "f", "", "", "", ""],
    ["CR-3", "Björk", "Jónsdóttir", "1965", "f", "", "", "", ""],
], line_end="\r").encode("cp1252"))

# --- Excel writing trailing empty columns ----------------------------------
# When the sheet's used range is wider than the data, Excel ends every row
# with empty fields (",", ",,,"), differently for different chunks of rows,
# and writes emptied rows as ",,,,,,,,,,,".  A real tenth value (a note
# typed next to the data) is still too many fields.  Excel for Mac 2016 is
# reported to end every line with an extra comma, which this covers too.
write("excel-trailing-columns.csv", csv_text([
    ["TC-1", "Ann", "Lee", "1980", "f", "", "", "", "", ""],
    ["TC-2", "Bob", "Ray", "1981", "m", "", "", "", "", "", "", ""],
    ["", "", "", "", "", "", "", "", "", "", "", ""],
    ["TC-3", "Cas", "Day", "1982", "m", "", "", "", "Knee rehab", ""],
    ["TC-4", "Dee", "Fox", "1983", "f", "", "", "", "", "called twice", ""],
    ["TC-5", "Eve", "Kay", "1984", "f", "", "", "", ""],
]).encode("ascii"))

# --- Excel after it has saved numbers --------------------------------------
# Ids of 12 or more digits become scientific notation (1.23457E+11), and
# two different ids collapse to the same text; PT Direct's 00-prefixed
# mobile numbers lose their leading zeros (0031612345678 -> 31612345678) or
# become scientific notation too.
write("excel-scientific-and-zeros.csv", csv_text([
    ["123456789012", "Ann", "Lee", "1980", "f", "", "0031612345678", "", ""],
    ["1.23457E+11", "Bob", "Ray", "1981", "m", "", "", "", ""],
    ["1.23457E+11", "Cas", "Day", "1982", "m", "", "", "", ""],
    ["EX-4", "Dee", "Fox", "1983", "f", "", "31612345678", "", ""],
    ["EX-5", "Eve", "Kay", "1984", "f", "", "3.16123E+10", "", ""],
    ["EX-6", "Fay", "Moy", "1985", "f", "", "4.47912E+11", "", ""],
]).encode("ascii"))

# --- LibreOffice Calc, "Quote all text cells" ------------------------------
# UTF-8 chosen in the save dialog, LF line ends, every text cell quoted
# (numbers not), a quote inside a value doubled.
write("libreoffice-all-quoted.csv", csv_text([
    ["LO-1", "Anna", "van der Berg, Jr.", "1970", "f", "anna@example.nl", "", "", "Back pain"],
    ["LO-2", 'Piet "Pete"', "de Boer", "1966", "m", "", "0031612345678", "", ""],
], line_end="\n", quote_text=True).encode("utf-8"))

# --- Google Sheets, File > Download > CSV ----------------------------------
# UTF-8 without a BOM (BOM and line end not documented; LF assumed), comma,
# the sheet's own header row in PT Direct's names in another order, an
# internationalised email domain.
write("google-sheets.csv", csv_text([
    ["First name", "Last name", "Internal ID", "Gender", "Year of birth", "Email", "Mobile number", "Client group"],
    ["Åsa", "Lindqvist", "GS-1", "f", "1988", "asa@exempel.se", "+46 70 123 45 67", "Back pain"],
    ["Jörg", "Krüger", "GS-2", "m", "1975", "info@müller.de", "", "Back Pain"],
    ["Siobhán", "Ní Bhriain", "GS-3", "f", "1993", "siobhan@example.ie", "+353 (0)87 123 4567", ""],
], line_end="\n").encode("utf-8"))

# --- Apple Numbers, Export To > CSV (Unicode UTF-8) ------------------------
# UTF-8 without BOM, LF (layout not documented).  Text that came from
# macOS (file names, some pasted text) is often decomposed (NFD): é as e +
# U+0301.  ptimport stores NFC, so "Café" in NFC and NFD is one group.
write("numbers-export-nfd.csv", csv_text([
    ["Internal ID", "First name", "Last name", "Year of birth", "Gender", "Client group"],
    ["NU-1", "Ame\u0301lie", "Poulain", "1981", "f", "Cafe\u0301 club"],
    ["NU-2", "Zoe\u0308", "Kravitz", "1988", "f", "Caf\u00e9 club"],
], line_end="\n").encode("utf-8"))

# --- Nookal patient export -------------------------------------------------
# Nookal's export has a header row: First Name, Last Name, Gender (M/F/O),
# Date of Birth (YYYY-MM-DD), Mobile Phone (local format), Email Address.
# As listed it has no id column: a required field is missing, and the file
# is refused whole, saying so.
write("nookal-export.csv", csv_text([
    ["First Name", "Last Name", "Gender", "Date of Birth", "Mobile Phone", "Email Address"],
    ["Olivia", "Smith", "F", "1987-04-12", "0412 345 678", "olivia@example.com.au"],
    ["Jack", "Brown", "M", "1979-11-30", "0423 456 789", ""],
]).encode("utf-8"))

# The same export with a Patient ID column (assumed: an id column the
# practice adds, or an export option): imported; local mobile numbers are
# warnings, O is not a gender ptimport stores.
write("nookal-export-with-id.csv", csv_text([
    ["Patient ID", "First Name", "Last Name", "Gender", "Date of Birth", "Mobile Phone", "Email Address"],
    ["NK-101", "Olivia", "Smith", "F", "1987-04-12", "0412 345 678", "olivia@example.com.au"],
    ["NK-102", "Jack", "Brown", "M", "1979-11-30", "+61 423 456 789", ""],
    ["NK-103", "Riley", "Jones", "O", "2003-02-28", "", "riley@example.com.au"],
]).encode("utf-8"))

# --- Cliniko patient export (Patients-Cliniko-YYYYMMDD.csv) ----------------
# A header row and about 38 columns, date of birth as a date; the exact
# layout was not found publicly, so the columns are modelled on it: "ID"
# for the patient, Sex as Male/Female, phone numbers in local and
# international formats, many columns ptimport does not store.
CLINIKO_HEADER = [
    "ID", "Title", "First Name", "Preferred First Name", "Last Name", "Date of Birth",
    "Sex", "Gender Identity", "Pronouns", "Email", "Mobile", "Home Phone", "Work Phone",
    "Address 1", "Address 2", "Address 3", "City", "State", "Post Code", "Country",
    "Occupation", "Emergency Contact", "Referral Source", "Medicare", "Medicare Reference Number",
    "DVA Card Number", "Concession Type", "Notes", "Reminder Type", "Accepted Privacy Policy",
    "Accepted SMS Marketing", "Accepted Email Marketing", "Appointment Notes", "Custom Field 1",
    "Custom Field 2", "Created At", "Updated At", "Archived At",
]


def cliniko_row(values):
    row = [""] * len(CLINIKO_HEADER)
    for name, value in values.items():
        row[CLINIKO_HEADER.index(name)] = value
    return row


write("cliniko-patients.csv", csv_text([
    CLINIKO_HEADER,
    cliniko_row({"ID": "448812", "Title": "Ms", "First Name": "Charlotte", "Last Name": "Nguyen",
                 "Date of Birth": "1986-07-21", "Sex": "Female", "Email": "charlotte@example.com.au",
                 "Mobile": "+61 412 345 678", "City": "Brisbane", "State": "QLD", "Country": "Australia",
                 "Notes": "Prefers mornings, \"no\" Fridays", "Created At": "2023-02-01 09:15:00 +1000"}),
    cliniko_row({"ID": "448813", "Title": "Mr", "First Name": "William", "Last Name": "O'Connor",
                 "Date of Birth": "1958-01-03", "Sex": "Male", "Mobile": "0423 456 789",
                 "City": "Sydney", "State": "NSW", "Country": "Australia",
                 "Created At": "2023-03-11 14:02:00 +1100"}),
    cliniko_row({"ID": "448814", "Title": "", "First Name": "Mia", "Last Name": "Taylor",
                 "Date of Birth": "", "Sex": "Female", "Email": "mia@example",
                 "Created At": "2024-01-20 10:00:00 +1000"}),
]).encode("utf-8"))

# --- Look-alikes: NFD, zero-width and other invisible characters ------------
# Text pasted from web pages and chat apps: a zero-width space after VIP,
# a right-to-left mark, a line separator, ideographic and no-break spaces
# around values, a first name that is only a zero-width space.
write("lookalikes-invisible.csv", csv_text([
    ["LA-1", "Anna", "Lee", "1980", "f", "", "", "", "VIP"],
    ["LA-2", "Ben", "Lee", "1981", "m", "", "", "", "VIP\u200b"],
    ["LA-3", "\u200b", "Lee", "1982", "m", "", "", "", ""],
    ["LA-4", "Cleo\u200f", "Lee", "1983", "f", "", "", "", ""],
    ["LA-5", "Dana", "Lee\u2028Smith", "1984", "f", "", "", "", ""],
    ["\u3000LA-6\u00a0", "\u2003Eva\u202f", "Lee", "1985", "f", "", "", "", "\u00a0VIP\u3000"],
    ["LA-7", "Finn", "Lee", "1986", "m", "", "", "D\u00ad1", ""],
], line_end="\n").encode("utf-8"))

# --- Not CSV at all --------------------------------------------------------
# An Excel workbook (.xlsx) uploaded instead of its CSV: a zip archive whose
# entries are named [Content_Types].xml, _rels/.rels, xl/workbook.xml ...
# (stored with a fixed date, so the bytes repeat).
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
    for name, body in [
        ("[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8"?><Types/>'),
        ("_rels/.rels", '<?xml version="1.0" encoding="UTF-8"?><Relationships/>'),
        ("xl/workbook.xml", '<?xml version="1.0" encoding="UTF-8"?><workbook/>'),
        ("xl/worksheets/sheet1.xml", '<?xml version="1.0" encoding="UTF-8"?><worksheet/>'),
    ]:
        z.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), body)
write("not-csv-workbook.xlsx", buf.getvalue())

# An Excel 97-2003 workbook (.xls): an OLE2 compound file.  Only its header
# sector and the directory entry naming the Workbook stream are real; the
# rest is zeros (enough for what ptimport looks at).
header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16 + b"\x3e\x00\x03\x00\xfe\xff\x09\x00"
header += b"\0" * (512 - len(header))
entry = "Workbook".encode("utf-16-le") + b"\0\0"
directory = "Root Entry".encode("utf-16-le") + b"\0" * (128 - 20) + entry + b"\0" * (128 - len(entry))
write("not-csv-workbook.xls", header + directory + b"\0" * (512 - len(directory)))

# A PDF of the client list (printed to PDF instead of exported).
write("not-csv-list.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
      b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")

# An RTF document (WordPad or TextEdit) holding the list as text.
write("not-csv-list.rtf", b"{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 Calibri;}}\n"
      b"\\f0 PT-1,Ann,Lee,1980,f\\par\nPT-2,Bob,Ray,1981,m\\par\n}\n")

# --- Broken encodings ------------------------------------------------------
# UTF-16LE without its byte-order mark (a program that wrote UTF-16 and
# left the BOM out): every other byte is 0.
write("utf16le-without-bom.csv", csv_text([
    ["NB-1", "Ann", "Lee", "1980", "f"],
    ["NB-2", "Bob", "Ray", "1981", "m"],
]).encode("utf-16-le"))

# A UTF-8 file to which a line was added in another program that saved
# Windows-1252: valid UTF-8 characters and invalid bytes in one file.
write("mixed-utf8-and-1252.csv",
      csv_text([["MX-1", "Zoë", "Lee", "1980", "f"], ["MX-2", "Ann", "Lee", "1981", "f"]]).encode("utf-8")
      + csv_text([["MX-3", "Renée", "Ray", "1982", "f"]]).encode("cp1252"))

# Excel on Windows in a Central European locale (pl-PL), "CSV": Windows-1250
# and semicolons (Polish uses a decimal comma).
write("excel-pl-semicolon-1250.csv", csv_text([
    ["PL-1", "Łukasz", "Wiśniewski", "1979", "m", "", "", "", "Kręgosłup"],
    ["PL-2", "Małgorzata", "Wójcik", "1985", "f", "", "", "", "Kolano"],
    ["PL-3", "Grzegorz", "Kamiński", "1962", "m", "", "", "", "Kręgosłup"],
    ["PL-4", "Agnieszka", "Lewandowska", "1990", "f", "", "", "", ""],
    ["PL-5", "Krzysztof", "Zieliński", "1971", "m", "", "", "", "Bark"],
    ["PL-6", "Żaneta", "Szymańska", "1995", "f", "", "", "", "Kolano"],
], delimiter=";").encode("cp1250"))
