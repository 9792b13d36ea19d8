(000) ldh      [12]
(001) jeq      #0x800           jt 2	jf 7
(002) ldh      [16]
(003) div      #4
(004) mul      #4
(005) jeq      #0x0             jt 6	jf 7
(006) ret      #262144
(007) ret      #0
