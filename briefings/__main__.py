"""`python -m briefings` runs the command line."""

from briefings.cli import main

main()
