"""xlplugin: validate, label and summarise marketing plan workbooks."""

__version__ = "0.1.0"
