//! Every system call of sluice: AF_PACKET rings, netfilter queues,
//! namespaces and veth for the lab, privileges.
#![deny(missing_docs)]
