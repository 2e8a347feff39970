import PFSCLI
PFSCommand.main()
