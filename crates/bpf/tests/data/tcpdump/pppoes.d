(000) ldh      [12]
(001) jeq      #0x8864          jt 2	jf 8
(002) ld       [14]
(003) and      #0xffff
(004) jeq      #0x3             jt 5	jf 8
(005) ldh      [20]
(006) jeq      #0x21            jt 7	jf 8
(007) ret      #262144
(008) ret      #0
