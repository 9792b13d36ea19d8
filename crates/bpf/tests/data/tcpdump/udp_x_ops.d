(000) ldh      [12]
(001) jeq      #0x800           jt 2	jf 24
(002) ldb      [23]
(003) jeq      #0x11            jt 4	jf 24
(004) ldh      [20]
(005) jset     #0x1fff          jt 24	jf 6
(006) ldxb     4*([14]&0xf)
(007) ldb      [x + 22]
(008) st       M[1]
(009) ldb      [x + 23]
(010) tax      
(011) ld       M[1]
(012) mul      x
(013) or       #0x1
(014) jeq      #0x3             jt 15	jf 24
(015) ldxb     4*([14]&0xf)
(016) ldb      [x + 24]
(017) st       M[6]
(018) ldb      [x + 25]
(019) tax      
(020) ld       M[6]
(021) and      x
(022) jeq      #0x0             jt 23	jf 24
(023) ret      #262144
(024) ret      #0
