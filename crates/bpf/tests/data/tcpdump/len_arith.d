(000) ld       #pktlen
(001) sub      #14
(002) jgt      #0x64            jt 3	jf 4
(003) ret      #262144
(004) ret      #0
