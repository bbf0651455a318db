Attribute VB_Name = "RibbonMyAddin"
' xlplugin's ribbon dispatcher.  Every button of the "Marketing Plan" tab
' (customUI14.xml) calls OnXlpluginButton; the button's tag names the Python command
' (xlplugin.excel.COMMANDS), so a new button is an XML edit only.
' The module keeps the name it has in the xlwings quickstart add-in this project
' comes from (THIRD_PARTY.md); RunPython and GetConfig are in the project's own
' xlwings module, so no reference has to be set.
Option Explicit

Private Const TITLE As String = "xlplugin"

Public Sub OnXlpluginButton(control As IRibbonControl)
    Dim tag As String
    tag = control.Tag
    If tag = "" Or tag Like "*[!a-z_]*" Then
        MsgBox "This button has no valid xlplugin command (tag '" & tag & "').", vbExclamation, TITLE
        Exit Sub
    End If
    If ActiveWorkbook Is Nothing Then
        MsgBox "Open a marketing plan workbook first.", vbInformation, TITLE
        Exit Sub
    End If
    If Not PythonIsSetUp() Then Exit Sub

    On Error GoTo Failed
    Application.StatusBar = "xlplugin: running " & Replace(tag, "_", " ") & "..."
    Application.ScreenUpdating = False
    RunPython PythonCall(tag)
    Application.ScreenUpdating = True
    Application.StatusBar = False
    Exit Sub
Failed:
    Application.ScreenUpdating = True
    Application.StatusBar = False
    MsgBox "xlplugin could not run '" & tag & "': " & Err.Description & vbLf & vbLf & _
           "Check the set-up: in a terminal, run  xlplugin addin install", vbExclamation, TITLE
End Sub

' The Python that `xlplugin addin install` wrote into xlplugin.conf; a clear message
' (not a VBA error box) when there is none or it is gone.
Private Function PythonIsSetUp() As Boolean
    Dim interpreter As String, found As String
    #If Mac Then
        interpreter = GetConfig("INTERPRETER_MAC", "")
    #Else
        interpreter = GetConfig("INTERPRETER_WIN", "")
    #End If
    If interpreter = "" Then
        MsgBox "xlplugin does not know which Python to use." & vbLf & vbLf & _
               "In a terminal, in the Python where xlplugin is installed, run:" & vbLf & _
               "    xlplugin addin install" & vbLf & "then restart Excel.", vbExclamation, TITLE
        Exit Function
    End If
    #If Not Mac Then
        On Error Resume Next
        found = Dir(interpreter)
        On Error GoTo 0
        If found = "" Then
            MsgBox "The Python xlplugin was set up with is missing:" & vbLf & interpreter & vbLf & vbLf & _
                   "Install Python and xlplugin again, then run  xlplugin addin install", vbExclamation, TITLE
            Exit Function
        End If
    #End If
    PythonIsSetUp = True
End Function

' One line of Python: runs the command, or says plainly that xlplugin is missing from
' that Python (instead of a traceback).
Private Function PythonCall(tag As String) As String
    PythonCall = "import importlib.util as u, sys, xlwings as xw; " & _
        "x = __import__('xlplugin.excel').excel if u.find_spec('xlplugin') else None; " & _
        "x.ribbon('" & tag & "') if x else xw.Book.caller().app.alert(" & _
        "'xlplugin is not installed in the Python Excel uses (' + sys.executable + '). " & _
        "Run: pip install xlplugin, then: xlplugin addin install', title='xlplugin')"
End Function
