(000) ldh      [12]
(001) jeq      #0x800           jt 2	jf 7
(002) ld       #pktlen
(003) jgt      #0x5dc           jt 7	jf 4
(004) ldh      [20]
(005) jset     #0x1fff          jt 7	jf 6
(006) ret      #262144
(007) ret      #0
