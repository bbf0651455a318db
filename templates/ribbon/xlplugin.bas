Attribute VB_Name = "xlplugin"
' The xlplugin add-in's only VBA: one callback for every button of the
' "Marketing Plan" ribbon tab (customUI14.xml).  The button's tag names the Python
' command; xlwings' RunPython runs it, and xlplugin.excel.ribbon works on the
' active workbook (RunPython's caller is this add-in itself).
' Needs a reference to xlwings (Tools > References > xlwings) and Python with
' xlplugin and xlwings installed (see README.md).
Option Explicit

Public Sub OnXlpluginButton(control As IRibbonControl)
    ' Python reports the outcome (and any problem with the plan) in a message box.
    If ActiveWorkbook Is Nothing Then
        MsgBox "Open a marketing plan workbook first.", vbInformation, "xlplugin"
        Exit Sub
    End If
    RunPython "import xlplugin.excel as x; x.ribbon('" & control.Tag & "')"
End Sub
