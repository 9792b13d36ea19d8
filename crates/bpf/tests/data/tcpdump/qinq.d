(000) ldh      [12]
(001) jeq      #0x8100          jt 4	jf 2
(002) jeq      #0x88a8          jt 4	jf 3
(003) jeq      #0x9100          jt 4	jf 14
(004) ldh      [16]
(005) jeq      #0x8100          jt 8	jf 6
(006) jeq      #0x88a8          jt 8	jf 7
(007) jeq      #0x9100          jt 8	jf 14
(008) ldh      [18]
(009) and      #0xfff
(010) jeq      #0xc8            jt 11	jf 14
(011) ldh      [20]
(012) jeq      #0x800           jt 13	jf 14
(013) ret      #262144
(014) ret      #0
