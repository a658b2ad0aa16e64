from perfrules.cli import main

main(prog_name="perfrules")
