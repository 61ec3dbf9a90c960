from emprops.cli import main

main()
