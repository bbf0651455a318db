"""The Excel add-in (xlplugin.xlam): build it from an Excel-written xlwings project,
verify it without Excel, install it where Excel loads add-ins, and write the xlwings
Lite scripts for Excel on the web and Mac."""
