from relnews.cli import main

main()
