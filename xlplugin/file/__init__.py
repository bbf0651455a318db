"""The file source and target: read a workbook (calamine + package XML) and write the
change list into it losslessly (file.write)."""
