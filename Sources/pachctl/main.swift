import PFSCLI

await PFSCommand.runMain()
