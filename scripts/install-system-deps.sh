#!/bin/sh
# Installs the system tools the test suite uses: LibreOffice headless (recalculates
# formulas, converts to PDF) and poppler's pdftoppm (PDF -> PNG).
set -e
need=""
command -v soffice >/dev/null 2>&1 || need="$need libreoffice-calc-nogui"
command -v pdftoppm >/dev/null 2>&1 || need="$need poppler-utils"
[ -z "$need" ] && exit 0
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
echo "installing:$need"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need >/dev/null
